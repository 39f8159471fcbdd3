import { repeatedCredentialHeader } from '../authn/credentials.ts';
import { normalizeTargetUris } from '../contract/methods.ts';
import { ERROR_SPECS, jsonRpcError, type ProxyErrorCode } from '../errors.ts';
import { readBody } from '../transport/body.ts';
import {
  batchesAllowed,
  checkContentType,
  checkMirroredHeaders,
  checkOrigin,
  checkProtocolVersion,
} from '../transport/headers.ts';
import { parseJsonRpc } from '../transport/jsonrpc.ts';
import { type Exchange, header, idsOf, newRecord, type Refusal } from './exchange.ts';
import { type Decision, principalKey } from './ports.ts';
import type { McpRecord } from './record.ts';
import { endMessageSpans, startMessageSpans } from './trace.ts';

// The sidecar's stage order, declared once. Each stage reads the exchange, fills in what it learns,
// and either passes it on (undefined) or answers it (a Refusal). Audit is not a stage in this list
// but the frame around it: the runner records every message exactly once, whatever stage stopped it.

export type Stage = (ex: Exchange) => Refusal | undefined | Promise<Refusal | undefined>;

/** The transport-specific parts: how a session is found and how the exchange is forwarded. */
export interface TransportBinding {
  /** The session the request names (header or query), checked against its owner by `bindSession`. */
  sessionOf(ex: Exchange): string | undefined;
  /** Whether a request without a session is acceptable (initialize, stateless revisions). */
  sessionOptional(ex: Exchange): boolean;
  /** Sends denials, forwards what is allowed, streams the reply; resolves when the reply is done. */
  forward(ex: Exchange, denied: Refusal | undefined): Promise<void>;
}

export function refuse(
  code: ProxyErrorCode,
  reason: string,
  id: Parameters<typeof jsonRpcError>[1],
  outcome: Refusal['outcome'] = 'failed',
): Refusal {
  return { code, httpStatus: ERROR_SPECS[code].httpStatus, outcome, reason, body: jsonRpcError(code, id) };
}

/**
 * 1. Transport: origin, protocol revision, content type, body limits, JSON-RPC shape, resource URIs
 * normalized, header mirrors.
 */
export const checkTransport: Stage = async (ex) => {
  const { config, origins } = ex.runtime;
  const origin = checkOrigin(header(ex.req, 'origin'), header(ex.req, 'host'), origins);
  if (!origin.ok) return refuse(origin.code, origin.detail, null);
  const version = header(ex.req, 'mcp-protocol-version');
  const versionCheck = checkProtocolVersion(version);
  if (!versionCheck.ok) return refuse(versionCheck.code, versionCheck.detail, null);
  ex.protocolVersion = version;
  const type = checkContentType(header(ex.req, 'content-type'));
  if (!type.ok) return refuse(type.code, type.detail, null);
  const body = await readBody(ex.req, config.limits.maxBodyBytes, config.limits.requestTimeoutMs);
  if (body.ok === false && body.code === 'REQUEST_TIMEOUT')
    // The rest of a trickling body is not waited for: the connection ends with the answer.
    return { ...refuse(body.code, body.detail, null), headers: { connection: 'close' } };
  if (!body.ok) return refuse(body.code, body.detail, null);
  const parsed = parseJsonRpc(body.text, config.limits);
  if (!parsed.ok) return refuse(parsed.code, parsed.detail, parsed.id);
  ex.batch = parsed.batch;
  // What is forwarded is rebuilt from this object (forwardedBody), never the bytes as they came.
  ex.parsed = parsed.raw;
  let invalid: string | undefined;
  for (const msg of parsed.messages) {
    if (msg.kind !== 'response')
      invalid ??= normalizeTargetUris(msg.method, msg.params as Record<string, unknown> | undefined);
  }
  ex.messages = parsed.messages.map((msg) => ({ msg, record: newRecord(ex, msg) }));
  if (invalid !== undefined) return refuse('INVALID_PARAMS', invalid, idsOf(ex));
  if (parsed.batch && !batchesAllowed(version)) {
    return refuse('BATCH_NOT_SUPPORTED', `batch under protocol ${version}`, null);
  }
  const mirrored = checkMirroredHeaders(
    header(ex.req, 'mcp-method'),
    header(ex.req, 'mcp-name'),
    parsed.messages,
  );
  if (!mirrored.ok) return refuse(mirrored.code, mirrored.detail, idsOf(ex));
  return undefined;
};

/** 1'. Transport checks for GET (stream) and DELETE (end session), which carry no body. */
export const checkStreamTransport: Stage = (ex) => {
  const origin = checkOrigin(header(ex.req, 'origin'), header(ex.req, 'host'), ex.runtime.origins);
  if (!origin.ok) return refuse(origin.code, origin.detail, null);
  const version = header(ex.req, 'mcp-protocol-version');
  const versionCheck = checkProtocolVersion(version);
  if (!versionCheck.ok) return refuse(versionCheck.code, versionCheck.detail, null);
  ex.protocolVersion = version;
  return undefined;
};

/** 2. Authentication: the caller's credential becomes a principal, or the exchange ends in 401/403. */
export const authenticate: Stage = async (ex) => {
  const result = await ex.runtime.authenticator.authenticate({
    authorization: header(ex.req, 'authorization'),
    apiKey: header(ex.req, 'x-api-key'),
    repeated: repeatedCredentialHeader(ex.req.rawHeaders),
  });
  if (result.ok) {
    ex.principal = result.principal;
    return undefined;
  }
  const e = result.error;
  return {
    code: e.code,
    httpStatus: e.httpStatus,
    outcome: e.httpStatus === 503 ? 'failed' : 'unauthenticated',
    // The code is the record's errorCode; the audit puts it before the reason once.
    reason: e.detail,
    body: { jsonrpc: '2.0', id: idsOf(ex), error: { code: -32001, message: e.message } },
    headers: { 'www-authenticate': e.wwwAuthenticate },
  };
};

/** 3. Session binding: a session id is usable only by the principal that opened it. */
export function bindSession(binding: TransportBinding): Stage {
  return (ex) => {
    const sessionId = binding.sessionOf(ex);
    ex.sessionId = sessionId;
    if (sessionId === undefined) {
      return binding.sessionOptional(ex) ? undefined : refuse('SESSION_REQUIRED', 'no session id', idsOf(ex));
    }
    if (ex.principal === undefined) return refuse('INTERNAL', 'no principal', idsOf(ex));
    const check = ex.runtime.sessions.check(sessionId, principalKey(ex.principal));
    if (check === 'owner') return undefined;
    // Unknown and foreign look the same to the caller: a 404 says "start a new session".
    return refuse(
      'SESSION_NOT_FOUND',
      check === 'foreign' ? 'session owned by another principal' : 'unknown session',
      idsOf(ex),
    );
  };
}

/**
 * 4. Authorization, message by message. Denied requests get a JSON-RPC error with their id; in a batch
 * one denial refuses the whole batch (each element answered), so no half-applied batch reaches the server.
 */
export const authorize: Stage = (ex) => {
  const { policy, config } = ex.runtime;
  const principal = ex.principal;
  if (principal === undefined) return refuse('INTERNAL', 'no principal', idsOf(ex));
  let denied: { index: number; rule: string | undefined; reason: string; data: Decision['data'] } | undefined;
  for (const [index, { msg, record }] of ex.messages.entries()) {
    if (msg.kind === 'response') continue; // answers to the server's own requests (sampling, roots)
    const decision = policy.decide(principal, {
      method: msg.method,
      server: config.server.name,
      ...record.target,
      arguments: record.arguments,
    });
    // Keys in canonical order, so the audit seals the decision without a sorted copy.
    const d: NonNullable<McpRecord['decision']> = { effect: decision.effect };
    if (decision.rule !== undefined) d.policy = decision.rule.policy;
    d.reason = decision.reason;
    if (decision.rule !== undefined) d.rule = decision.rule.name;
    record.decision = d;
    if (decision.effect === 'deny') {
      record.outcome = 'denied';
      record.errorCode = 'POLICY_DENIED';
      record.reason = decision.reason;
      denied ??= { index, rule: decision.rule?.name, reason: decision.reason, data: decision.data };
    } else if (msg.kind === 'request' && policy.filtersReplies(msg.method)) {
      ex.filterIds ??= new Map();
      ex.filterIds.set(msg.id, msg.method);
    }
  }
  if (denied === undefined) return undefined;
  const responses = [];
  for (const [index, { msg, record }] of ex.messages.entries()) {
    // Nothing of a refused batch is forwarded: every element is recorded as denied.
    if (record.outcome !== 'denied') {
      record.outcome = 'denied';
      record.errorCode = 'POLICY_DENIED';
      record.reason = `batch refused: element ${denied.index} denied`;
    }
    if (msg.kind !== 'request') continue;
    const data: Record<string, unknown> =
      index === denied.index || record.decision?.effect === 'deny'
        ? { reason: record.decision?.reason ?? denied.reason }
        : { reason: `batch refused: element ${denied.index} is not allowed` };
    if (record.decision?.rule !== undefined) data.rule = record.decision.rule;
    if (index === denied.index && denied.data !== undefined) Object.assign(data, denied.data);
    responses.push(jsonRpcError('POLICY_DENIED', msg.id, data));
  }
  const body = ex.batch ? responses : (responses[0] ?? undefined);
  return {
    code: 'POLICY_DENIED',
    httpStatus: body === undefined ? 202 : 200,
    outcome: 'denied',
    reason: denied.reason,
    body,
  };
};

/** 5. Audit admission: with a fail-closed auditor, a call it cannot record is not made. */
export const admitAudit: Stage = (ex) => {
  if (ex.runtime.recorder.admit?.() === false) {
    return refuse('AUDIT_UNAVAILABLE', 'audit cannot record', idsOf(ex));
  }
  return undefined;
};

/** The order for a POSTed message: transport, authenticate, session, authorize, audit admission. */
export function postStages(binding: TransportBinding): readonly Stage[] {
  return [checkTransport, authenticate, bindSession(binding), authorize, admitAudit];
}

/** The order for opening a stream or ending a session: no message to authorize. */
export function streamStages(binding: TransportBinding): readonly Stage[] {
  return [checkStreamTransport, authenticate, bindSession(binding), admitAudit];
}

/**
 * Runs the stages in order, then forwards (6) and streams/filters the reply (7), and finally
 * records one event per message; a refusal is answered and recorded the same way.
 */
export async function runExchange(
  ex: Exchange,
  stages: readonly Stage[],
  binding: TransportBinding,
): Promise<void> {
  try {
    for (const stage of stages) {
      // Most stages are synchronous: awaiting only promises spares a microtask turn each.
      const result = stage(ex);
      const refusal = result instanceof Promise ? await result : result;
      if (ex.trace === undefined && ex.messages.length > 0 && ex.runtime.tracing !== undefined) {
        ex.trace = startMessageSpans(ex, ex.runtime.tracing);
      }
      if (refusal !== undefined) {
        ex.refusal = refusal;
        break;
      }
    }
    if (ex.refusal === undefined || ex.refusal.code === 'POLICY_DENIED') {
      await binding.forward(ex, ex.refusal);
    } else {
      sendRefusal(ex, ex.refusal);
    }
  } catch (err) {
    ex.refusal = refuse('INTERNAL', (err as Error).message, idsOf(ex));
    if (!ex.res.headersSent) sendRefusal(ex, ex.refusal);
    else ex.res.destroy();
  } finally {
    finish(ex);
  }
}

export function sendRefusal(ex: Exchange, r: Refusal): void {
  if (ex.res.headersSent) return;
  const headers: Record<string, string> = { ...r.headers };
  if (r.body === undefined) {
    ex.res.writeHead(r.httpStatus, headers).end();
    return;
  }
  const text = JSON.stringify(r.body);
  headers['content-type'] = 'application/json';
  headers['content-length'] = String(Buffer.byteLength(text));
  ex.res.writeHead(r.httpStatus, headers).end(text);
}

function finish(ex: Exchange): void {
  const now = performance.now();
  const latencyMs = now - ex.startedHr;
  ex.upstreamWait.stop(now); // an upstream that failed, or a client that left mid-stream
  const ownLatencyMs = latencyMs - ex.upstreamWait.ms;
  const r = ex.refusal;
  if (ex.messages.length === 0)
    ex.messages.push({ msg: undefined as never, record: newRecord(ex, undefined) });
  for (const { msg, record } of ex.messages) {
    record.latencyMs = latencyMs;
    record.ownLatencyMs = ownLatencyMs;
    record.httpStatus ??= ex.res.statusCode;
    if (ex.principal) record.principal = ex.principal;
    if (ex.sessionId !== undefined) record.session ??= ex.sessionId;
    if (ex.protocolVersion !== undefined) record.protocolVersion = ex.protocolVersion;
    if (r !== undefined && record.outcome !== 'denied') {
      record.outcome = r.outcome;
      record.errorCode = r.code;
      record.reason = r.reason;
    }
    // Without spans (tracing off, or no SDK), the caller's own context: params._meta first, as the
    // MCP convention puts it there, then the HTTP header.
    if (record.traceparent === undefined) {
      const tp = metaTraceparent(msg) ?? header(ex.req, 'traceparent');
      if (tp !== undefined) record.traceparent = tp;
    }
  }
  if (ex.trace !== undefined && ex.runtime.tracing !== undefined)
    endMessageSpans(ex, ex.runtime.tracing, ex.trace);
  for (const { record } of ex.messages) ex.runtime.recorder.record(record);
}

function metaTraceparent(msg: Exchange['messages'][number]['msg'] | undefined): string | undefined {
  if (msg === undefined || msg.kind === 'response') return undefined;
  const tp = (msg.params?._meta as { traceparent?: unknown } | undefined)?.traceparent;
  return typeof tp === 'string' ? tp : undefined;
}
