import type { AuditSink, SinkFormat, SinkRecord } from '../../../../sidecar/src/audit/sink.ts';

// An in-process sink for testing the auditor's queueing: it keeps what it receives and can be
// switched down (every write rejects) and up again.

export interface MemorySink extends AuditSink {
  readonly lines: string[];
  down: boolean;
  writes: number;
  /** While set, writes wait until release() is called. */
  hang: boolean;
  release(): void;
}

export function memorySink(name = 'memory', format: SinkFormat = 'portcullis'): MemorySink {
  const waiting: Array<() => void> = [];
  const sink: MemorySink = {
    name,
    type: 'stdout',
    format,
    lines: [],
    down: false,
    writes: 0,
    hang: false,
    release() {
      for (const r of waiting.splice(0)) r();
    },
    async write(batch: readonly SinkRecord[]) {
      sink.writes += 1;
      if (sink.hang) await new Promise<void>((r) => waiting.push(r));
      await Promise.resolve();
      if (sink.down) throw new Error(`${name} is down`);
      for (const r of batch) sink.lines.push(r.json);
    },
    async close() {},
  };
  return sink;
}
