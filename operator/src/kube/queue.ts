import { defaultRateLimiter, type RateLimiter } from './rate-limiter.ts';

// A work queue of keys (never objects: each run re-reads the cache), with client-go's guarantees:
// - a key is queued at most once however often it is added (dirty set);
// - a key being processed is never handed to a second worker; if it is added meanwhile, it is
//   queued again when the first worker calls done();
// - failures are retried after the rate limiter's delay; delayed adds keep the earliest deadline.

export type Schedule = (fn: () => void, ms: number) => () => void;

export interface WorkQueueOptions {
  rateLimiter?: RateLimiter;
  schedule?: Schedule;
  now?: () => number;
  /** Called whenever the number of queued keys changes (for the depth gauge). */
  onDepth?: (depth: number) => void;
}

const realSchedule: Schedule = (fn, ms) => {
  const timer = setTimeout(fn, ms);
  return () => clearTimeout(timer);
};

export class WorkQueue {
  readonly #queue: string[] = [];
  readonly #dirty = new Set<string>();
  readonly #processing = new Set<string>();
  readonly #waiting = new Map<string, { at: number; cancel: () => void }>();
  readonly #getters: ((key: string | undefined) => void)[] = [];
  readonly #drained: (() => void)[] = [];
  readonly #limiter: RateLimiter;
  readonly #schedule: Schedule;
  readonly #now: () => number;
  readonly #onDepth: (depth: number) => void;
  #shuttingDown = false;

  constructor(options: WorkQueueOptions = {}) {
    this.#now = options.now ?? Date.now;
    this.#limiter = options.rateLimiter ?? defaultRateLimiter(this.#now);
    this.#schedule = options.schedule ?? realSchedule;
    this.#onDepth = options.onDepth ?? (() => {});
    // Report the empty queue at once: keys handed straight to idle workers never change the depth,
    // and a gauge that was never set has no series to graph or alert on.
    this.#onDepth(0);
  }

  get length(): number {
    return this.#queue.length;
  }

  get shuttingDown(): boolean {
    return this.#shuttingDown;
  }

  add(key: string): void {
    if (this.#shuttingDown || this.#dirty.has(key)) return;
    this.#dirty.add(key);
    if (this.#processing.has(key)) return;
    const getter = this.#getters.shift();
    if (getter) {
      this.#dirty.delete(key);
      this.#processing.add(key);
      getter(key);
      return;
    }
    this.#queue.push(key);
    this.#onDepth(this.#queue.length);
  }

  addAfter(key: string, ms: number): void {
    if (this.#shuttingDown) return;
    if (ms <= 0) {
      this.add(key);
      return;
    }
    const at = this.#now() + ms;
    const waiting = this.#waiting.get(key);
    if (waiting && waiting.at <= at) return;
    waiting?.cancel();
    const cancel = this.#schedule(() => {
      this.#waiting.delete(key);
      this.add(key);
    }, ms);
    this.#waiting.set(key, { at, cancel });
  }

  addRateLimited(key: string): void {
    this.addAfter(key, this.#limiter.when(key));
  }

  /** The key succeeded: its next failure starts the backoff from the beginning. */
  forget(key: string): void {
    this.#limiter.forget(key);
  }

  failures(key: string): number {
    return this.#limiter.failures(key);
  }

  /** Next key to process, or undefined once the queue is shut down and empty. */
  get(): Promise<string | undefined> {
    const key = this.#queue.shift();
    if (key !== undefined) {
      this.#dirty.delete(key);
      this.#processing.add(key);
      this.#onDepth(this.#queue.length);
      return Promise.resolve(key);
    }
    if (this.#shuttingDown) return Promise.resolve(undefined);
    return new Promise((resolve) => this.#getters.push(resolve));
  }

  done(key: string): void {
    this.#processing.delete(key);
    if (this.#dirty.has(key)) {
      this.#dirty.delete(key);
      if (!this.#shuttingDown) this.add(key);
    }
    if (this.#processing.size === 0) for (const resolve of this.#drained.splice(0)) resolve();
  }

  /**
   * Stop handing out work: queued and delayed keys are dropped (the next leader re-lists and
   * re-queues everything), waiting workers get undefined. Resolves when in-flight keys are done.
   */
  shutDown(): Promise<void> {
    this.#shuttingDown = true;
    for (const { cancel } of this.#waiting.values()) cancel();
    this.#waiting.clear();
    this.#queue.length = 0;
    this.#dirty.clear();
    this.#onDepth(0);
    for (const resolve of this.#getters.splice(0)) resolve(undefined);
    if (this.#processing.size === 0) return Promise.resolve();
    return new Promise((resolve) => this.#drained.push(resolve));
  }
}
