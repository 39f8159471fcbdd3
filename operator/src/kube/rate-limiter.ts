// How long a failing key waits before its next try: per-key exponential backoff, bounded by an
// overall token bucket so that a burst of failures cannot hammer the API server (client-go's
// default controller rate limiter, with the clock passed in).

export interface RateLimiter {
  /** Delay before the key may be retried; counts one more failure for it. */
  when(key: string): number;
  /** The key succeeded: reset its backoff. */
  forget(key: string): void;
  failures(key: string): number;
}

export class ExponentialRateLimiter implements RateLimiter {
  readonly #failures = new Map<string, number>();
  readonly #baseMs: number;
  readonly #maxMs: number;

  constructor(baseMs = 5, maxMs = 300_000) {
    this.#baseMs = baseMs;
    this.#maxMs = maxMs;
  }

  when(key: string): number {
    const n = this.#failures.get(key) ?? 0;
    this.#failures.set(key, n + 1);
    return Math.min(this.#baseMs * 2 ** n, this.#maxMs);
  }

  forget(key: string): void {
    this.#failures.delete(key);
  }

  failures(key: string): number {
    return this.#failures.get(key) ?? 0;
  }
}

/** Token bucket: qps tokens a second, up to burst; each retry takes one or waits for it. */
export class BucketRateLimiter implements RateLimiter {
  readonly #qps: number;
  readonly #burst: number;
  readonly #now: () => number;
  #tokens: number;
  #last: number;

  constructor(qps: number, burst: number, now: () => number = Date.now) {
    this.#qps = qps;
    this.#burst = burst;
    this.#now = now;
    this.#tokens = burst;
    this.#last = now();
  }

  when(_key: string): number {
    const now = this.#now();
    this.#tokens = Math.min(this.#burst, this.#tokens + ((now - this.#last) / 1000) * this.#qps);
    this.#last = now;
    this.#tokens -= 1;
    // A negative balance is a reservation: wait until it is paid back.
    return this.#tokens >= 0 ? 0 : Math.ceil((-this.#tokens / this.#qps) * 1000);
  }

  forget(_key: string): void {}

  failures(_key: string): number {
    return 0;
  }
}

/** The longest delay of its parts. */
export class MaxOfRateLimiter implements RateLimiter {
  readonly #parts: RateLimiter[];

  constructor(...parts: RateLimiter[]) {
    this.#parts = parts;
  }

  when(key: string): number {
    return Math.max(...this.#parts.map((p) => p.when(key)));
  }

  forget(key: string): void {
    for (const p of this.#parts) p.forget(key);
  }

  failures(key: string): number {
    return Math.max(...this.#parts.map((p) => p.failures(key)));
  }
}

export function defaultRateLimiter(now: () => number = Date.now): RateLimiter {
  return new MaxOfRateLimiter(new ExponentialRateLimiter(5, 300_000), new BucketRateLimiter(10, 100, now));
}
