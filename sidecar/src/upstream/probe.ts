import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { SSEClientTransport } from '@modelcontextprotocol/sdk/client/sse.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import { type TlsFetch, tlsFetch } from './tls-fetch.ts';

// One probe of an HTTP upstream: an MCP initialize in a session of the sidecar's own, over the same
// TLS settings as the calls (CA bundle read afresh, so a rotated CA counts), with the gateway's own
// credential at most (never a caller's). The SDK's client speaks both transports; undici's fetch
// carries the CA, which the global fetch cannot take per request.

export interface ProbeTarget {
  readonly url: string;
  readonly transport: 'streamable-http' | 'sse';
  readonly caFile?: string;
  readonly serverName?: string;
  readonly headers: Readonly<Record<string, string>>;
  readonly timeoutMs: number;
}

export interface ProbeResult {
  /** A verified connection reached the MCP endpoint and it answered (an authentication demand included). */
  readonly reachable: boolean;
  readonly serverInfo?: { readonly name: string; readonly version?: string };
  readonly protocolVersion?: string;
  /** Why it is not reachable, or what the probe could not learn. */
  readonly message?: string;
}

const TLS_TRUST = new Set([
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'CERT_UNTRUSTED',
  'CERT_SIGNATURE_FAILURE',
]);

/** Pure: what a person reads in the UpstreamReachable condition for a failed probe. */
export function describeProbeFailure(err: unknown): ProbeResult {
  const status = (err as { code?: unknown }).code;
  if (typeof status === 'number' && status >= 400 && status < 600) {
    if (status === 401 || status === 403)
      return {
        reachable: true,
        message: `the upstream answered HTTP ${status}: it wants a credential the gateway does not hold on its own (per-caller credentials)`,
      };
    return {
      reachable: false,
      message: `the upstream answered HTTP ${status}: is the URL its MCP endpoint?`,
    };
  }
  const chain: { code?: unknown; message?: unknown }[] = [];
  for (let e: unknown = err; e instanceof Error && chain.length < 5; e = e.cause) chain.push(e);
  const coded = chain.find((e) => typeof e.code === 'string');
  const code = coded?.code as string | undefined;
  // fetch says only "fetch failed"; the reason is in its cause.
  const detail = coded
    ? `${code}: ${String(coded.message)}`
    : chain.length > 0
      ? chain.map((e) => String(e.message)).join(': ')
      : String(err);
  if (code !== undefined && TLS_TRUST.has(code))
    return {
      reachable: false,
      message: `TLS: the upstream certificate is not trusted (${detail}); check spec.external.tls.caBundle`,
    };
  if (code === 'ERR_TLS_CERT_ALTNAME_INVALID')
    return {
      reachable: false,
      message: `TLS: the upstream certificate does not carry the expected name (${detail}); check spec.external.tls.serverName`,
    };
  if (code === 'CERT_HAS_EXPIRED' || code === 'CERT_NOT_YET_VALID')
    return { reachable: false, message: `TLS: the upstream certificate is not valid now (${detail})` };
  return { reachable: false, message: detail };
}

export async function probeUpstream(target: ProbeTarget): Promise<ProbeResult> {
  let via: TlsFetch | undefined;
  let client: Client | undefined;
  let transport: (Transport & { terminateSession?: () => Promise<void> }) | undefined;
  try {
    via = tlsFetch(
      {
        ...(target.caFile !== undefined ? { caFile: target.caFile } : {}),
        ...(target.serverName !== undefined ? { serverName: target.serverName } : {}),
      },
      target.timeoutMs,
    );
    const options = { fetch: via.fetch, requestInit: { headers: { ...target.headers } } };
    const url = new URL(target.url);
    const t: Transport & { terminateSession?: () => Promise<void> } =
      target.transport === 'sse'
        ? new SSEClientTransport(url, options)
        : new StreamableHTTPClientTransport(url, options);
    transport = t;
    // The client tells the transport the revision both sides agreed on; the probe listens in.
    let protocolVersion: string | undefined;
    const agreed = t.setProtocolVersion?.bind(t);
    t.setProtocolVersion = (version: string) => {
      protocolVersion = version;
      agreed?.(version);
    };
    client = new Client({ name: 'portcullis-gateway-probe', version: '1' });
    await client.connect(t, { timeout: target.timeoutMs, signal: AbortSignal.timeout(target.timeoutMs) });
    const info = client.getServerVersion();
    return {
      reachable: true,
      ...(info
        ? { serverInfo: { name: info.name, ...(info.version ? { version: info.version } : {}) } }
        : {}),
      ...(protocolVersion ? { protocolVersion } : {}),
    };
  } catch (err) {
    return describeProbeFailure(err);
  } finally {
    await transport?.terminateSession?.().catch(() => {});
    await client?.close().catch(() => {});
    await via?.close().catch(() => {});
  }
}
