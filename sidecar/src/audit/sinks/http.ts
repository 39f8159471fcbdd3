import type { AuditSink, SinkFormat, SinkRecord } from '../sink.ts';

// HTTP batches in the Splunk HTTP Event Collector shape: one POST per batch whose body is the events
// as concatenated HEC envelopes ({"time","sourcetype","event"}), newline separated. Any 2xx is
// accepted; anything else (or no answer in time) fails the batch, and the queue retries it.

export type FetchLike = (url: string, init: RequestInit) => Promise<Response>;

export interface HttpSinkOptions {
  name: string;
  format: SinkFormat;
  url: string;
  token: string | undefined;
  authScheme: string;
  sourcetype: string;
  index: string | undefined;
  host: string;
  timeoutMs: number;
}

export function createHttpSink(opts: HttpSinkOptions, fetch: FetchLike = globalThis.fetch): AuditSink {
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (opts.token !== undefined) headers.authorization = `${opts.authScheme} ${opts.token}`;
  // The constant part of each envelope is serialised once.
  const fixed =
    `"host":${JSON.stringify(opts.host)},"source":"portcullis","sourcetype":${JSON.stringify(opts.sourcetype)}` +
    (opts.index !== undefined ? `,"index":${JSON.stringify(opts.index)}` : '');

  return {
    name: opts.name,
    type: 'http',
    format: opts.format,
    async write(batch: readonly SinkRecord[]) {
      let body = '';
      for (const r of batch)
        body += `{"time":${Date.parse(r.event.time) / 1000},${fixed},"event":${r.json}}\n`;
      const res = await fetch(opts.url, {
        method: 'POST',
        headers,
        body,
        signal: AbortSignal.timeout(opts.timeoutMs),
      });
      // Drain the body so the keep-alive connection is reused.
      const text = await res.text().catch(() => '');
      if (res.status < 200 || res.status > 299) {
        throw new Error(`HTTP ${res.status} from audit receiver: ${text.slice(0, 200)}`);
      }
    },
    async close() {},
  };
}
