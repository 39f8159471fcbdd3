import { readFileSync } from 'node:fs';
import { Agent, fetch as undiciFetch } from 'undici';
import { parseCaBundle } from './ca-bundle.ts';

// A fetch that reaches an https upstream with the configured TLS settings (upstream.tls: CA bundle,
// server name), for the sidecar's own MCP sessions (the upstream probe, pinning's reads of the
// lists; the SDK's client transports take a fetch). The process-wide fetch cannot take a CA per
// request. The CA file is read at each request (these sessions make a few), and a changed bundle
// gets a new connection pool, so a rotated CA counts; a broken one fails the request, naming the file.

export interface TlsFetch {
  readonly fetch: typeof fetch;
  close(): Promise<void>;
}

export function tlsFetch(
  tls: { readonly caFile?: string; readonly serverName?: string } | undefined,
  connectTimeoutMs: number,
): TlsFetch {
  let agent: { ca: string | undefined; dispatcher: Agent } | undefined;
  const dispatcherFor = (ca: string | undefined): Agent => {
    if (agent !== undefined && agent.ca === ca) return agent.dispatcher;
    void agent?.dispatcher.close().catch(() => {});
    const dispatcher = new Agent({
      connect: {
        timeout: connectTimeoutMs,
        ...(ca !== undefined ? { ca } : {}),
        ...(tls?.serverName !== undefined ? { servername: tls.serverName } : {}),
      },
    });
    agent = { ca, dispatcher };
    return dispatcher;
  };
  const viaAgent = (url: string | URL, init?: RequestInit) => {
    const ca = tls?.caFile ? parseCaBundle(readFileSync(tls.caFile, 'utf8'), tls.caFile) : undefined;
    return undiciFetch(url, { ...(init as object), dispatcher: dispatcherFor(ca) });
  };
  return {
    // undici's Response is the web Response the SDK expects; only the declared types differ.
    fetch: viaAgent as unknown as typeof fetch,
    close: async () => {
      await agent?.dispatcher.close();
    },
  };
}
