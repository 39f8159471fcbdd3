import { readFileSync } from 'node:fs';
import type { IncomingHttpHeaders } from 'node:http';
import type { EffectiveConfig } from '../config/load.ts';

// Which request headers reach the upstream server. An allow-list, not a deny-list: the caller's
// Authorization, X-API-Key and cookies are never forwarded (no token passthrough); the sidecar's
// own upstream credentials are injected instead. Neither are the caller's Mcp-Param-* headers: they
// are derived from the decided arguments (transport/param-headers.ts).

const FORWARDED_REQUEST_HEADERS = [
  'accept',
  'mcp-session-id',
  'mcp-protocol-version',
  'mcp-method',
  'mcp-name',
  'last-event-id',
  'traceparent',
  'tracestate',
  'baggage',
  'user-agent',
] as const;

export function upstreamRequestHeaders(
  incoming: IncomingHttpHeaders,
  injected: Readonly<Record<string, string>>,
): Record<string, string> {
  const out: Record<string, string> = {};
  for (const name of FORWARDED_REQUEST_HEADERS) {
    const v = incoming[name];
    if (typeof v === 'string') out[name] = v;
  }
  for (const name in injected) out[name] = injected[name] as string;
  return out;
}

/**
 * Headers of a POST carrying the rebuilt message (forwardedBody): JSON in UTF-8, whatever the
 * caller declared, so no upstream decodes it with another charset. undici sets its length.
 */
export function upstreamMessageHeaders(
  incoming: IncomingHttpHeaders,
  injected: Readonly<Record<string, string>>,
): Record<string, string> {
  const out = upstreamRequestHeaders(incoming, injected);
  out['content-type'] = 'application/json';
  return out;
}

const FORWARDED_RESPONSE_HEADERS = [
  'content-type',
  'mcp-session-id',
  'mcp-protocol-version',
  'cache-control',
  'last-event-id',
  'retry-after',
] as const;

export function clientResponseHeaders(
  upstream: Readonly<Record<string, string | string[] | undefined>>,
): Record<string, string> {
  const out: Record<string, string> = {};
  for (const name of FORWARDED_RESPONSE_HEADERS) {
    const v = upstream[name];
    if (typeof v === 'string') out[name] = v;
  }
  return out;
}

/** The status a client sees: an upstream that rejects the sidecar's own credentials is a gateway fault. */
export function clientStatus(upstreamStatus: number): number {
  return upstreamStatus === 401 || upstreamStatus === 403 ? 502 : upstreamStatus;
}

/** Resolves configured upstream credentials once per configuration load. Throws naming the header. */
export function resolveInjectedHeaders(
  config: EffectiveConfig,
  env: Readonly<Record<string, string | undefined>>,
): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [i, h] of (config.upstream.headers ?? []).entries()) {
    let value: string | undefined;
    if (h.valueFrom.env !== undefined) value = env[h.valueFrom.env];
    else if (h.valueFrom.file !== undefined) value = readFileSync(h.valueFrom.file, 'utf8').trim();
    if (value === undefined)
      throw new Error(`/upstream/headers/${i}: environment variable ${h.valueFrom.env} is not set`);
    out[h.name.toLowerCase()] = value;
  }
  return out;
}
