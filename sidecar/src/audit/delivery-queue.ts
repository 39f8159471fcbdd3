import { AuditError } from './errors.ts';
import type { AuditLogger, AuditSink, SinkRecord } from './sink.ts';

// A bounded queue in front of one sink, drained by one loop: take what is queued (up to maxBatch),
// write it, and on failure keep the batch, back off (exponential, jittered) and retry, for as long as
// it takes. Nothing is dropped for being old: only an event that arrives while the queue is full is
// refused (and counted), so an outage loses nothing the queue can hold. Full means maxEvents events or
// maxBytes of serialised events, the batch being retried included: an event is taken while the queue
// is below both, so it holds at most maxBytes plus one (bounded) event, and `full` can be checked
// before an event exists (closed mode's admission).

export interface DeliveryAck {
  resolve(): void;
  reject(err: Error): void;
}

interface Entry {
  record: SinkRecord;
  ack: DeliveryAck | undefined;
  bytes: number;
}

export interface DeliveryCounters {
  delivered(sink: string, n: number): void;
  retried(sink: string, n: number): void;
  dropped(sink: string, n: number): void;
}

export interface DeliveryOptions {
  maxEvents: number;
  maxBytes: number;
  maxBatch: number;
  retryInitialMs: number;
  retryMaxMs: number;
  random?: () => number;
}

export interface DeliveryQueue {
  readonly sink: AuditSink;
  readonly depth: number;
  /** Serialised bytes held: queued and in the batch being written. */
  readonly bytes: number;
  /** False from a failed (or too slow) write until the next successful one. */
  readonly healthy: boolean;
  /** An event waited too long for this sink: count it as failing until a write succeeds. */
  markFailing(): void;
  readonly full: boolean;
  offer(record: SinkRecord, ack?: DeliveryAck): boolean;
  /** Waits until the queue is empty or the time is up; then stops, dropping (and counting) the rest. */
  close(timeoutMs: number): Promise<void>;
}

export function createDeliveryQueue(
  sink: AuditSink,
  opts: DeliveryOptions,
  counters: DeliveryCounters,
  logger: AuditLogger,
): DeliveryQueue {
  const random = opts.random ?? Math.random;
  let items: Entry[] = [];
  let bytes = 0;
  let running = false;
  let scheduled = false;
  let stopped = false;
  let healthy = true;
  let wake: (() => void) | undefined;
  let idle: (() => void) | undefined;

  const depth = () => items.length;
  const full = () => items.length >= opts.maxEvents || bytes >= opts.maxBytes;
  const release = (entries: readonly Entry[]) => {
    for (const e of entries) bytes -= e.bytes;
  };

  // splice, not a moving head: a delivered event must not stay reachable from the array (a head index
  // compacted only past 1,024 entries kept that many events and their records alive).
  const take = (n: number) => items.splice(0, n);

  const sleep = (ms: number) =>
    new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, ms);
      wake = () => {
        clearTimeout(timer);
        resolve();
      };
    });

  async function drain(): Promise<void> {
    running = true;
    let backoff = opts.retryInitialMs;
    let batch: Entry[] = [];
    try {
      while (!stopped) {
        if (batch.length === 0) {
          if (depth() === 0) break;
          batch = take(opts.maxBatch);
        }
        try {
          await sink.write(batch.map((e) => e.record));
        } catch (err) {
          if (healthy)
            logger.warn(
              { err, sink: sink.name, queued: depth() + batch.length },
              'audit sink failed; retrying',
            );
          healthy = false;
          counters.retried(sink.name, batch.length);
          await sleep(backoff * (0.5 + random() / 2));
          backoff = Math.min(backoff * 2, opts.retryMaxMs);
          continue;
        }
        if (!healthy) logger.info({ sink: sink.name }, 'audit sink recovered');
        healthy = true;
        backoff = opts.retryInitialMs;
        counters.delivered(sink.name, batch.length);
        release(batch);
        for (const e of batch) e.ack?.resolve();
        batch = [];
      }
    } finally {
      // Stopped with a batch in hand: put it back so close() counts it as dropped.
      if (batch.length > 0) {
        items = [...batch, ...items];
      }
      running = false;
      idle?.();
    }
  }

  return {
    sink,
    get depth() {
      return depth();
    },
    get bytes() {
      return bytes;
    },
    get healthy() {
      return healthy;
    },
    markFailing() {
      if (healthy && depth() + (running ? 1 : 0) > 0) {
        logger.warn({ sink: sink.name, queued: depth() }, 'audit sink too slow; counted as failing');
        healthy = false;
      }
    },
    get full() {
      return full();
    },
    offer(record, ack) {
      if (stopped || full()) {
        counters.dropped(sink.name, 1);
        return false;
      }
      const size = Buffer.byteLength(record.json);
      bytes += size;
      items.push({ record, ack, bytes: size });
      // Drain on the next turn of the event loop, not inside the caller's request: sink work stays off
      // the request path and events recorded meanwhile go out in the same batch.
      if (!running && !scheduled) {
        scheduled = true;
        setImmediate(() => {
          scheduled = false;
          void drain();
        });
      }
      return true;
    },
    async close(timeoutMs) {
      if (running || scheduled) {
        const done = new Promise<void>((resolve) => {
          idle = resolve;
        });
        const timer = setTimeout(() => {
          stopped = true;
          wake?.();
        }, timeoutMs);
        await done;
        clearTimeout(timer);
      }
      stopped = true;
      const left = items;
      items = [];
      release(left);
      if (left.length > 0) {
        counters.dropped(sink.name, left.length);
        logger.error({ sink: sink.name, dropped: left.length }, 'audit events undelivered at shutdown');
        const err = new AuditError('AUDIT_CLOSED', 'auditor closed before the event was delivered');
        for (const e of left) e.ack?.reject(err);
      }
      await sink.close();
    },
  };
}
