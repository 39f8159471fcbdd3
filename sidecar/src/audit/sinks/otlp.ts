import type { AuditSink, SinkFormat } from '../sink.ts';
import type { OtlpExport } from './otlp-export.ts';

// The OTLP sink. Its exporter (the OpenTelemetry logs SDK and OTLP transformer, about 10 MiB of a
// sidecar's memory) is imported when the sink is created, so a sidecar without an OTLP sink never
// loads it. The delivery queue retries a batch whose write found the import failed.

export interface OtlpSinkOptions {
  name: string;
  format: SinkFormat;
  endpoint?: string | undefined;
  headers: Record<string, string>;
  timeoutMs: number;
  instance: string;
}

export function createOtlpSink(opts: OtlpSinkOptions): AuditSink {
  const exporter: Promise<OtlpExport> = import('./otlp-export.ts').then((m) => m.createOtlpExport(opts));
  exporter.catch(() => {}); // surfaced by write(); never an unhandled rejection
  return {
    name: opts.name,
    type: 'otlp',
    format: opts.format,
    write: async (batch) => (await exporter).write(batch),
    close: async () => (await exporter).close(),
  };
}
