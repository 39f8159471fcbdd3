import type { Logger } from 'pino';
import type { OperatorMetrics } from '../metrics/metrics.ts';
import { isKubeError } from './errors.ts';
import type { WorkQueue } from './queue.ts';

// Runs a reconcile function over the keys of a work queue with a fixed number of workers. The
// queue guarantees one worker per key; failures are retried with backoff, successes reset it.

export interface ReconcileOutcome {
  /** Look again after this long even without an event (e.g. waiting for a rollout). */
  requeueAfterMs?: number;
}

export type Reconcile = (key: string) => Promise<ReconcileOutcome | undefined>;

export interface ControllerOptions {
  kind: string;
  queue: WorkQueue;
  reconcile: Reconcile;
  workers: number;
  log: Logger;
  metrics: OperatorMetrics;
  now?: () => number;
}

export class Controller {
  readonly kind: string;
  readonly queue: WorkQueue;
  readonly #o: ControllerOptions;
  readonly #now: () => number;
  #workers: Promise<void>[] = [];

  constructor(options: ControllerOptions) {
    this.kind = options.kind;
    this.queue = options.queue;
    this.#o = options;
    this.#now = options.now ?? performance.now.bind(performance);
  }

  start(): void {
    this.#workers = Array.from({ length: this.#o.workers }, () => this.#work());
  }

  /** Stops handing out keys and waits for the reconciles in flight to finish. */
  async stop(): Promise<void> {
    await this.queue.shutDown();
    await Promise.all(this.#workers);
  }

  async #work(): Promise<void> {
    for (;;) {
      const key = await this.queue.get();
      if (key === undefined) return;
      await this.#process(key);
    }
  }

  async #process(key: string): Promise<void> {
    const { kind, metrics, log } = this.#o;
    const started = this.#now();
    try {
      const outcome = await this.#o.reconcile(key);
      this.queue.forget(key);
      if (outcome?.requeueAfterMs !== undefined) {
        this.queue.addAfter(key, outcome.requeueAfterMs);
        metrics.reconciles.inc({ kind, result: 'requeue' });
      } else {
        metrics.reconciles.inc({ kind, result: 'success' });
      }
    } catch (err) {
      const code = isKubeError(err) ? err.code : 'INTERNAL';
      metrics.reconciles.inc({ kind, result: 'error' });
      metrics.reconcileErrors.inc({ kind, code });
      const failures = this.queue.failures(key);
      // Conflicts are routine (someone wrote first); the retry sees the newer object.
      const level = code === 'CONFLICT' || failures < 3 ? 'info' : 'warn';
      log[level]({ err, kind, key, failures }, 'reconcile failed; retrying with backoff');
      if (!this.queue.shuttingDown) this.queue.addRateLimited(key);
    } finally {
      metrics.reconcileDuration.observe({ kind }, (this.#now() - started) / 1000);
      this.queue.done(key);
    }
  }
}
