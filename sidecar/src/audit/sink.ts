import type { AuditEvent } from './event.ts';

// What every sink implements. A sink only transports: the delivery queue in front of it owns retry,
// backoff, bounds and counting. write() is never called concurrently for one sink and must reject when
// the batch was not accepted, so the queue retries it whole.

export type SinkFormat = 'portcullis' | 'ocsf';

export interface SinkRecord {
  readonly event: AuditEvent;
  /** The event serialised in this sink's format, without a trailing newline. */
  readonly json: string;
}

export interface AuditSink {
  readonly name: string;
  readonly type: 'stdout' | 'file' | 'otlp' | 'syslog' | 'http';
  readonly format: SinkFormat;
  write(batch: readonly SinkRecord[]): Promise<void>;
  close(): Promise<void>;
}

/** The part of a pino logger the audit uses; passed in so tests and the proxy choose the output. */
export interface AuditLogger {
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}
