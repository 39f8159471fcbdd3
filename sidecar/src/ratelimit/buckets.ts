// Token buckets by key, pure but for the clock passed in. A bucket holds up to `burst` tokens and
// gains `ratePerSecond` per second; a call takes one. Buckets live in a Map kept in use order and
// capped: past `maxKeys` the least recently used go (a bucket that comes back starts full, which
// errs towards letting a rare caller through, never towards refusing one). Time is milliseconds.

export interface BucketLimit {
  readonly ratePerSecond: number;
  readonly burst: number;
}

interface Bucket {
  tokens: number;
  at: number;
}

export class TokenBuckets {
  readonly #limit: BucketLimit;
  readonly #maxKeys: number;
  readonly #buckets = new Map<string, Bucket>();

  constructor(limit: BucketLimit, maxKeys = 100_000) {
    this.#limit = limit;
    this.#maxKeys = maxKeys;
  }

  get size(): number {
    return this.#buckets.size;
  }

  /** Milliseconds until `key` has a token: 0 when it has one now. Takes nothing. */
  waitMs(key: string, now: number): number {
    const tokens = this.#refilled(this.#buckets.get(key), now);
    return tokens >= 1 ? 0 : Math.ceil(((1 - tokens) / this.#limit.ratePerSecond) * 1000);
  }

  /** Takes one token from `key` (call after waitMs said 0). */
  take(key: string, now: number): void {
    const tokens = this.#refilled(this.#buckets.get(key), now);
    this.#buckets.delete(key); // re-inserted last: the Map's order is the use order
    this.#buckets.set(key, { tokens: tokens - 1, at: now });
    if (this.#buckets.size > this.#maxKeys) {
      const oldest = this.#buckets.keys().next().value;
      if (oldest !== undefined) this.#buckets.delete(oldest);
    }
  }

  #refilled(bucket: Bucket | undefined, now: number): number {
    if (bucket === undefined) return this.#limit.burst;
    const elapsed = Math.max(0, now - bucket.at) / 1000;
    return Math.min(this.#limit.burst, bucket.tokens + elapsed * this.#limit.ratePerSecond);
  }
}
