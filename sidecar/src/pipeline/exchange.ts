import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AuthnErrorCode } from '../authn/errors.ts';
import { targetOf } from '../contract/methods.ts';
import type { Principal } from '../contract/principal.ts';
import type { JsonRpcId, ProxyErrorCode } from '../errors.ts';
import type { ClientMessage } from '../transport/jsonrpc.ts';
import type { McpRecord } from './record.ts';
import type { ServerMessage } from './reply.ts';
import type { Runtime } from './runtime.ts';
import type { ExchangeTrace } from './trace.ts';
import { UpstreamWait } from './upstream-wait.ts';

// The state of one HTTP exchange as it moves through the stages. Every field exists from the start
// (undefined until a stage fills it) so the object keeps one shape.

export interface MessageState {
  readonly msg: ClientMessage;
  readonly record: McpRecord;
}

/** A stage's decision to answer the exchange itself instead of passing it on. */
export interface Refusal {
  /** The proxy's code, or the authenticator's (e.g. 'expired') for a 401/403. */
  readonly code: ProxyErrorCode | AuthnErrorCode;
  readonly httpStatus: number;
  readonly outcome: McpRecord['outcome'];
  readonly reason: string;
  /** Response body (JSON-RPC error(s)); none for 202/204. */
  readonly body: unknown;
  readonly headers?: Readonly<Record<string, string>>;
}

export interface Exchange {
  readonly startedAt: number;
  readonly startedHr: number;
  readonly runtime: Runtime;
  readonly req: IncomingMessage;
  readonly res: ServerResponse;
  readonly transport: McpRecord['transport'];
  /** The body sent upstream: built from `parsed` (forwardedBody), never the caller's own bytes. */
  body: string | undefined;
  /** The parsed body (object or array) the decisions and the audit read. */
  parsed: unknown;
  batch: boolean;
  messages: MessageState[];
  principal: Principal | undefined;
  sessionId: string | undefined;
  protocolVersion: string | undefined;
  /** Ids of requests whose replies carry lists to filter, by JSON-RPC id. */
  filterIds: Map<string | number, string> | undefined;
  refusal: Refusal | undefined;
  trace: ExchangeTrace | undefined;
  readonly upstreamWait: UpstreamWait;
}

export function header(req: IncomingMessage, name: string): string | undefined {
  const v = req.headers[name];
  return Array.isArray(v) ? v[0] : v;
}

export function newRecord(ex: Exchange, msg: ClientMessage | undefined, startedAt = ex.startedAt): McpRecord {
  const ua = header(ex.req, 'user-agent');
  const record: McpRecord = {
    startedAt,
    outcome: 'allowed',
    transport: ex.transport,
    httpMethod: ex.req.method ?? 'POST',
    source: { address: ex.req.socket.remoteAddress ?? '', port: ex.req.socket.remotePort },
    method: msg && msg.kind !== 'response' ? msg.method : msg ? 'response' : 'http',
    latencyMs: 0,
    ownLatencyMs: 0,
  };
  if (ua !== undefined) record.source.userAgent = ua.slice(0, 256);
  if (msg === undefined) return record;
  record.kind = msg.kind;
  if (msg.kind !== 'notification') record.jsonrpcId = msg.id;
  if (msg.kind === 'response') return record;
  // The authorization method table says what a method touches (completion/complete names its
  // prompt or resource in `ref`, its arguments in `argument`).
  const { arguments: args, ...target } = targetOf(msg.method, msg.params);
  if (target.tool !== undefined || target.resource !== undefined || target.prompt !== undefined)
    record.target = target;
  if (args !== undefined) record.arguments = args;
  if (msg.method === 'initialize') {
    const requested = msg.params?.protocolVersion;
    if (typeof requested === 'string') record.protocolVersion = requested.slice(0, 32);
    const info = msg.params?.clientInfo as { name?: unknown; version?: unknown } | undefined;
    if (info && typeof info === 'object') {
      record.client = {};
      if (typeof info.name === 'string') record.client.name = info.name.slice(0, 128);
      if (typeof info.version === 'string') record.client.version = info.version.slice(0, 64);
    }
  }
  return record;
}

/**
 * The record of one message the server sent to the caller outside the answers to its own requests:
 * stamped with the caller it went to and the session it belongs to, bounded (no server payload).
 */
export function serverMessageRecord(ex: Exchange, m: ServerMessage): McpRecord {
  const record = newRecord(ex, undefined, Date.now());
  record.method = m.method;
  if (m.kind !== undefined) record.kind = m.kind;
  record.direction = 'server-to-client';
  if (m.id !== undefined) record.jsonrpcId = m.id;
  if (m.result !== undefined) record.result = m.result;
  if (m.failure !== undefined) {
    record.outcome = 'failed';
    record.errorCode = 'UPSTREAM_PROTOCOL';
    record.reason = m.failure;
  }
  if (ex.principal !== undefined) record.principal = ex.principal;
  if (ex.sessionId !== undefined) record.session = ex.sessionId;
  if (ex.protocolVersion !== undefined) record.protocolVersion = ex.protocolVersion;
  return record;
}

export function idsOf(ex: Exchange): JsonRpcId {
  const first = ex.messages[0]?.msg;
  return !ex.batch && first && first.kind === 'request' ? first.id : null;
}

/**
 * The message the upstream receives: rebuilt from the parsed values the sidecar decided on and
 * audited (JSON.stringify), so no other parser can read the caller's bytes differently (charset,
 * duplicate names, escapes). Built once, and only for what is actually forwarded.
 */
export function forwardedBody(ex: Exchange): string {
  ex.body ??= JSON.stringify(ex.parsed);
  return ex.body;
}

export function newExchange(
  runtime: Runtime,
  req: IncomingMessage,
  res: ServerResponse,
  transport: Exchange['transport'],
): Exchange {
  return {
    startedAt: Date.now(),
    startedHr: performance.now(),
    runtime,
    req,
    res,
    transport,
    body: undefined,
    parsed: undefined,
    batch: false,
    messages: [],
    principal: undefined,
    sessionId: undefined,
    protocolVersion: undefined,
    filterIds: undefined,
    refusal: undefined,
    trace: undefined,
    upstreamWait: new UpstreamWait(),
  };
}
