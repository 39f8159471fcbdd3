import { MIMEType } from 'node:util';
import type { ProxyErrorCode } from './errors.ts';
import type { ClientMessage } from './jsonrpc.ts';

// Header checks of the Streamable HTTP transport that need no I/O: content type and charset, protocol
// revision, the 2026-07-28 Mcp-Method/Mcp-Name mirrors of the body, and the Origin (DNS-rebinding
// protection).

export const SUPPORTED_PROTOCOL_VERSIONS = [
  '2024-11-05',
  '2025-03-26',
  '2025-06-18',
  '2025-11-25',
  '2026-07-28',
] as const;
const SUPPORTED = new Set<string>(SUPPORTED_PROTOCOL_VERSIONS);

/** The revision a request without MCP-Protocol-Version is assumed to speak (spec: 2025-03-26). */
export const DEFAULT_PROTOCOL_VERSION = '2025-03-26';

export type HeaderCheck =
  | { readonly ok: true }
  | { readonly ok: false; readonly code: ProxyErrorCode; readonly detail: string };
const OK: HeaderCheck = { ok: true };

export function checkProtocolVersion(header: string | undefined): HeaderCheck {
  if (header === undefined || SUPPORTED.has(header)) return OK;
  return {
    ok: false,
    code: 'UNSUPPORTED_PROTOCOL_VERSION',
    detail: `unsupported revision ${header.slice(0, 40)}`,
  };
}

const CHARSET_PARAMETER = /;\s*charset\s*=/gi;

/**
 * The body must be JSON in UTF-8: `application/json`, with no charset or `charset=utf-8` (once).
 * The sidecar reads UTF-8 only, while an upstream behind body-parser decodes whatever charset the
 * header names (`charset=utf-7` turns `+AGc-et-env` into `get-env`); the upstream is sent a fixed
 * `application/json` instead of the caller's header.
 */
export function checkContentType(header: string | undefined): HeaderCheck {
  // The forms clients send, without a MIME parse (microseconds on every message).
  if (header === 'application/json' || header?.toLowerCase() === 'application/json; charset=utf-8') return OK;
  const refused = (detail: string): HeaderCheck => ({ ok: false, code: 'UNSUPPORTED_MEDIA_TYPE', detail });
  if (header === undefined) return refused('content-type missing');
  let type: MIMEType;
  try {
    type = new MIMEType(header);
  } catch {
    return refused(`content-type ${header.slice(0, 100)} does not parse`);
  }
  if (type.essence !== 'application/json') return refused(`content-type ${type.essence.slice(0, 100)}`);
  const charset = type.params.get('charset');
  if (charset === null) return OK;
  if (charset.toLowerCase() !== 'utf-8')
    return refused(`charset ${charset.slice(0, 40)}: only utf-8 is accepted`);
  if ((header.match(CHARSET_PARAMETER)?.length ?? 0) > 1) return refused('charset given more than once');
  return OK;
}

/** Batches exist only in 2025-03-26 (removed in 2025-06-18). */
export function batchesAllowed(protocolVersion: string | undefined): boolean {
  return protocolVersion === undefined || protocolVersion <= '2025-03-26';
}

const NAME_SOURCE: Readonly<Record<string, string>> = {
  'tools/call': 'name',
  'prompts/get': 'name',
  'resources/read': 'uri',
  'tasks/get': 'taskId',
  'tasks/update': 'taskId',
  'tasks/cancel': 'taskId',
};

const B64_PREFIX = '=?base64?';
const B64_SUFFIX = '?=';

/** Header values that are not plain printable ASCII travel base64-encoded between sentinels. */
export function encodeMcpHeaderValue(value: string): string {
  // Plain only when header parsing cannot change it: printable ASCII or tab, no surrounding
  // whitespace (field parsing strips it), and not itself shaped like the sentinel form.
  const plain =
    value !== '' &&
    value === value.trim() &&
    !(value.startsWith(B64_PREFIX) && value.endsWith(B64_SUFFIX)) &&
    /^[\t\x20-\x7e]*$/.test(value);
  return plain ? value : `${B64_PREFIX}${Buffer.from(value, 'utf8').toString('base64')}${B64_SUFFIX}`;
}

export function decodeMcpHeaderValue(value: string): string {
  if (value.startsWith(B64_PREFIX) && value.endsWith(B64_SUFFIX)) {
    return Buffer.from(value.slice(B64_PREFIX.length, -B64_SUFFIX.length), 'base64').toString('utf8');
  }
  return value;
}

/** When the client sent Mcp-Method / Mcp-Name, they must agree with the (single) message. */
export function checkMirroredHeaders(
  mcpMethod: string | undefined,
  mcpName: string | undefined,
  messages: readonly ClientMessage[],
): HeaderCheck {
  if (mcpMethod === undefined && mcpName === undefined) return OK;
  const first = messages[0];
  if (messages.length !== 1 || first === undefined || first.kind === 'response') {
    return {
      ok: false,
      code: 'HEADER_MISMATCH',
      detail: 'Mcp-Method/Mcp-Name sent with a message that has no method',
    };
  }
  if (mcpMethod !== undefined && mcpMethod !== first.method) {
    return { ok: false, code: 'HEADER_MISMATCH', detail: 'Mcp-Method differs from the body method' };
  }
  if (mcpName !== undefined) {
    const field = Object.hasOwn(NAME_SOURCE, first.method) ? NAME_SOURCE[first.method] : undefined;
    const bodyValue = field === undefined ? undefined : first.params?.[field];
    if (typeof bodyValue !== 'string' || decodeMcpHeaderValue(mcpName) !== bodyValue) {
      return { ok: false, code: 'HEADER_MISMATCH', detail: 'Mcp-Name differs from the body' };
    }
  }
  return OK;
}

const LOOPBACK = new Set(['localhost', '127.0.0.1', '[::1]']);

function hostnameOf(hostHeader: string): string {
  // host[:port], with IPv6 literals in brackets
  if (hostHeader.startsWith('[')) return hostHeader.slice(0, hostHeader.indexOf(']') + 1);
  const colon = hostHeader.indexOf(':');
  return (colon === -1 ? hostHeader : hostHeader.slice(0, colon)).toLowerCase();
}

/**
 * Where browsers may call from and which Host names are ours. Compiled once per configuration:
 * with no allowedOrigins, only loopback origins and the server's own canonical origin pass.
 */
export interface OriginPolicy {
  readonly allowed: ReadonlySet<string> | undefined;
  readonly ownHostname: string;
  /** Listening on loopback: the Host header must name loopback or the canonical host. */
  readonly checkHost: boolean;
}

export function compileOriginPolicy(
  allowedOrigins: readonly string[] | undefined,
  canonicalUri: string,
  listenHost: string,
): OriginPolicy {
  return {
    allowed: allowedOrigins === undefined ? undefined : new Set(allowedOrigins),
    ownHostname: new URL(canonicalUri).hostname.toLowerCase(),
    checkHost: LOOPBACK.has(listenHost) || listenHost === '::1',
  };
}

/**
 * DNS-rebinding protection. A page on another site must not reach a local or in-cluster MCP server
 * through the user's browser: its Origin (and, on loopback, the Host it resolved) must be ours.
 */
export function checkOrigin(
  origin: string | undefined,
  host: string | undefined,
  policy: OriginPolicy,
): HeaderCheck {
  if (policy.checkHost && host !== undefined) {
    const name = hostnameOf(host);
    if (!LOOPBACK.has(name) && name !== policy.ownHostname) {
      return { ok: false, code: 'ORIGIN_NOT_ALLOWED', detail: `host ${host.slice(0, 100)} not allowed` };
    }
  }
  if (origin === undefined) return OK;
  if (policy.allowed !== undefined) {
    if (policy.allowed.has('*') || policy.allowed.has(origin)) return OK;
  } else {
    try {
      const hostname = new URL(origin).hostname.toLowerCase();
      if (LOOPBACK.has(hostname) || hostname === policy.ownHostname) return OK;
    } catch {
      // fall through: an unparsable Origin is refused
    }
  }
  return { ok: false, code: 'ORIGIN_NOT_ALLOWED', detail: `origin ${origin.slice(0, 100)} not allowed` };
}
