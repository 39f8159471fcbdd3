import { readFileSync } from 'node:fs';
import { Agent, fetch as undiciFetch } from 'undici';
import { parseCaBundle } from './ca-bundle.ts';

// A fetch that reaches an https upstream with the configured TLS settings (upstream.tls: CA bundle,
// server name), for the sidecar's own MCP sessions (the SDK's client transports take a fetch); the
// process-wide fetch cannot take a CA per request. The CA file is read when the fetch is made, so
// making one per session picks up a rotated bundle.

export interface TlsFetch {
  readonly fetch: typeof fetch;
  close(): Promise<void>;
}

export function tlsFetch(
  tls: { readonly caFile?: string; readonly serverName?: string } | undefined,
  connectTimeoutMs: number,
): TlsFetch {
  const ca = tls?.caFile ? parseCaBundle(readFileSync(tls.caFile, 'utf8'), tls.caFile) : undefined;
  const dispatcher = new Agent({
    connect: {
      timeout: connectTimeoutMs,
      ...(ca !== undefined ? { ca } : {}),
      ...(tls?.serverName !== undefined ? { servername: tls.serverName } : {}),
    },
  });
  const viaAgent = (url: string | URL, init?: RequestInit) =>
    undiciFetch(url, { ...(init as object), dispatcher });
  return {
    // undici's Response is the web Response the SDK expects; only the declared types differ.
    fetch: viaAgent as unknown as typeof fetch,
    close: () => dispatcher.close(),
  };
}
