import pino from 'pino';
import type { AuditSink, SinkFormat, SinkRecord } from '../sink.ts';

// NDJSON on standard output through pino's asynchronous writer (sonic-boom): each line is exactly one
// event, so `kubectl logs` and node log collectors pick the trail up as structured JSON.

export interface LineDestination {
  write(data: string): boolean;
  once(event: 'drain', listener: () => void): unknown;
  flushSync?(): void;
}

export function createStdoutSink(
  opts: { name: string; format: SinkFormat },
  destination: LineDestination = pino.destination({ dest: 1, sync: false, minLength: 0 }),
): AuditSink {
  return {
    name: opts.name,
    type: 'stdout',
    format: opts.format,
    async write(batch: readonly SinkRecord[]) {
      let text = '';
      for (const r of batch) text += `${r.json}\n`;
      if (!destination.write(text)) await new Promise<void>((resolve) => destination.once('drain', resolve));
    },
    async close() {
      try {
        destination.flushSync?.();
      } catch {
        // Nothing more can be done for stdout at shutdown.
      }
    },
  };
}
