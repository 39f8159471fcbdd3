import { boundEvent, DEFAULT_MAX_FIELD_BYTES } from './bounds.ts';
import type { AuditEvent, AuditInput } from './event.ts';
import { AUDIT_SCHEMA_ID } from './event.ts';
import type { PayloadCapture } from './payload.ts';

// Pure: turns what the proxy knows about one message into the event body (everything but the chain
// fields, which the auditor's chain adds in order). Optional fields are left out, not set to undefined,
// so the canonical form and the written JSON agree. The body is bounded in bytes (bounds.ts); before
// authentication (no principal) it carries metadata only: what a caller without credentials sent as
// arguments is not captured at all.

export type EventBody = Omit<AuditEvent, 'hash' | 'seq' | 'prevHash'>;

export function buildEvent(
  input: AuditInput,
  ctx: { id: string; instance: string; now: Date; payloads: PayloadCapture; maxFieldBytes?: number },
): EventBody {
  const event: EventBody = {
    schema: AUDIT_SCHEMA_ID,
    id: ctx.id,
    time: (input.time ?? ctx.now).toISOString(),
    instance: ctx.instance,
    type: input.type ?? (input.outcome === 'unauthenticated' ? 'authn.failure' : 'mcp.message'),
    outcome: input.outcome,
    server: input.server,
    source: input.source,
    method: input.method,
    latencyMs: Math.max(0, Math.round(input.latencyMs * 1000) / 1000),
  };
  if (input.principal) event.principal = principalOf(input.principal);
  if (input.client && (input.client.name !== undefined || input.client.version !== undefined)) {
    event.client = input.client;
  }
  if (input.session !== undefined) event.session = input.session;
  if (input.protocolVersion !== undefined) event.protocolVersion = input.protocolVersion;
  if (input.jsonrpcId !== undefined) event.jsonrpcId = input.jsonrpcId;
  if (input.direction !== undefined) event.direction = input.direction;
  if (input.httpMethod !== undefined) event.httpMethod = input.httpMethod;
  if (input.target && Object.keys(input.target).length > 0) event.target = input.target;
  if (input.toolDigest !== undefined) event.toolDigest = input.toolDigest;
  if (input.drift) event.drift = input.drift;
  if (input.decision) event.decision = input.decision;
  if (input.arguments !== undefined && input.principal !== undefined) {
    const payload = ctx.payloads.capture(input.arguments);
    if (payload) event.payload = payload;
  }
  if (input.result) event.result = input.result;
  if (input.httpStatus !== undefined) event.httpStatus = input.httpStatus;
  if (input.reason !== undefined) event.reason = input.reason;
  if (input.upstreamLatencyMs !== undefined) {
    event.upstreamLatencyMs = Math.max(0, Math.round(input.upstreamLatencyMs * 1000) / 1000);
  }
  if (input.upstreamCredential) event.upstreamCredential = input.upstreamCredential;
  if (input.trace) event.trace = input.trace;
  return boundEvent(event, ctx.maxFieldBytes ?? DEFAULT_MAX_FIELD_BYTES);
}

/**
 * Keeps the audit's principal fields only: a Principal object may carry claims that must not leak.
 * Keys are set in canonical order, so sealing needs no sorted copy.
 */
function principalOf(p: NonNullable<AuditInput['principal']>): NonNullable<AuditEvent['principal']> {
  const out = {} as NonNullable<AuditEvent['principal']>;
  if (p.apiKeyId !== undefined) out.apiKeyId = p.apiKeyId;
  if (p.clientId !== undefined) out.clientId = p.clientId;
  out.groups = [...p.groups];
  if (p.issuer !== undefined) out.issuer = p.issuer;
  out.method = p.method;
  if (p.name !== undefined) out.name = p.name;
  if (p.serviceAccount !== undefined) out.serviceAccount = p.serviceAccount;
  out.subject = p.subject;
  return out;
}
