import type { McpRecord, Recorder } from '../pipeline/record.ts';
import type { Auditor } from './auditor.ts';
import type { AuditInput, AuditPrincipal } from './event.ts';
import type { AuditLogger } from './sinks/sink.ts';

// Plugs the auditor into the pipeline: the pipeline's one record per message becomes one audit
// event. `admit` is the fail-closed check the pipeline makes before forwarding a call; `record` never
// throws (a refusal after the fact is logged: the call was already admitted).

const TRACEPARENT = /^[0-9a-f]{2}-([0-9a-f]{32})-([0-9a-f]{16})-[0-9a-f]{2}$/;

export function createAuditRecorder(
  auditor: Auditor,
  opts: { server: { name: string; namespace?: string | undefined }; logger: AuditLogger },
): Recorder {
  // Only the fields the event schema has: the configuration's server block also holds canonicalUri.
  const { name, namespace } = opts.server;
  const server: AuditInput['server'] = namespace === undefined ? { name } : { name, namespace };
  return {
    admit: () => auditor.accepting(),
    record(r) {
      auditor.record(toAuditInput(r, server)).catch((err: unknown) => {
        // The method as sent may be megabytes: the log line gets its start only.
        opts.logger.error(
          { err, method: r.method.slice(0, 64), outcome: r.outcome },
          'audit event not recorded',
        );
      });
    },
  };
}

/** Pure mapping, field by field; exported for tests. */
export function toAuditInput(r: McpRecord, server: AuditInput['server']): AuditInput {
  const input: AuditInput = {
    outcome: r.outcome,
    time: new Date(r.startedAt),
    server,
    source: r.source,
    method: r.method,
    latencyMs: r.latencyMs,
  };
  if (r.principal) {
    const p = r.principal;
    const principal: AuditPrincipal = {
      subject: p.subject,
      name: p.name,
      groups: [...p.groups],
      method: p.method,
    };
    if (p.issuer !== undefined) principal.issuer = p.issuer;
    if (p.serviceAccount) principal.serviceAccount = `${p.serviceAccount.namespace}/${p.serviceAccount.name}`;
    if (p.apiKeyId !== undefined) principal.apiKeyId = p.apiKeyId;
    if (p.clientId !== undefined) principal.clientId = p.clientId;
    input.principal = principal;
  }
  if (r.client) input.client = r.client;
  if (r.session !== undefined) input.session = r.session;
  if (r.protocolVersion !== undefined) input.protocolVersion = r.protocolVersion;
  if (r.jsonrpcId !== undefined) input.jsonrpcId = r.jsonrpcId;
  if (r.direction !== undefined) input.direction = r.direction;
  if (r.httpMethod !== 'POST') input.httpMethod = r.httpMethod.slice(0, 16);
  if (r.target) input.target = r.target;
  if (r.decision) input.decision = r.decision;
  if (r.arguments !== undefined) input.arguments = r.arguments;
  if (r.result) input.result = r.result;
  if (r.httpStatus !== undefined) input.httpStatus = r.httpStatus;
  const reason = r.reason ?? (r.errorCode !== undefined ? String(r.errorCode) : undefined);
  if (reason !== undefined)
    input.reason =
      r.errorCode !== undefined && r.reason !== undefined ? `${r.errorCode}: ${r.reason}` : reason;
  if (r.upstreamLatencyMs !== undefined) input.upstreamLatencyMs = r.upstreamLatencyMs;
  if (r.upstreamCredential !== undefined) input.upstreamCredential = r.upstreamCredential;
  const tp = r.traceparent === undefined ? null : TRACEPARENT.exec(r.traceparent);
  if (tp) input.trace = { spanId: tp[2] as string, traceId: tp[1] as string };
  return input;
}
