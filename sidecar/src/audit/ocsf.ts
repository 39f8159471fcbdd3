import type { AuditEvent } from './event.ts';

// Optional output shape for SIEMs that ingest OCSF: API Activity (category 6, class 6003), OCSF 1.3.
// MCP messages map to activity Read (lists, reads, gets), Other (calls, everything else). The chain
// fields travel in `unmapped.portcullis` so the record can still be traced back to the chain; only the
// native shape is verifiable with audit:verify, because the hash is over the native event.

export const OCSF_VERSION = '1.3.0';

const READ_METHODS = new Set([
  'tools/list',
  'prompts/list',
  'prompts/get',
  'resources/list',
  'resources/read',
  'resources/templates/list',
]);

export function toOcsf(e: AuditEvent): Record<string, unknown> {
  const activityId = READ_METHODS.has(e.method) ? 2 : 99;
  const success = e.outcome === 'allowed';
  const record: Record<string, unknown> = {
    category_uid: 6,
    category_name: 'Application Activity',
    class_uid: 6003,
    class_name: 'API Activity',
    activity_id: activityId,
    activity_name: activityId === 2 ? 'Read' : 'Other',
    type_uid: 600300 + activityId,
    time: Date.parse(e.time),
    severity_id: e.outcome === 'allowed' ? 1 : e.outcome === 'failed' ? 3 : 2,
    status_id: success ? 1 : 2,
    status: success ? 'Success' : 'Failure',
    duration: Math.round(e.latencyMs),
    metadata: {
      version: OCSF_VERSION,
      uid: e.id,
      sequence: e.seq,
      log_name: 'portcullis-audit',
      product: { name: 'Portcullis', vendor_name: 'Portcullis', feature: { name: 'sidecar' } },
      ...(e.trace ? { correlation_uid: e.trace.traceId } : {}),
    },
    api: {
      operation: e.method,
      service: { name: e.server.namespace ? `${e.server.namespace}/${e.server.name}` : e.server.name },
      ...(e.jsonrpcId !== undefined && e.jsonrpcId !== null ? { request: { uid: String(e.jsonrpcId) } } : {}),
      ...(e.result
        ? {
            response: {
              ...(e.result.errorCode !== undefined ? { code: e.result.errorCode } : {}),
              ...(e.result.errorMessage !== undefined ? { error_message: e.result.errorMessage } : {}),
              ...(e.result.isError ? { error: 'error' } : {}),
            },
          }
        : {}),
    },
    actor: {
      ...(e.principal
        ? {
            user: {
              uid: e.principal.subject,
              ...(e.principal.name !== undefined ? { name: e.principal.name } : {}),
              groups: e.principal.groups.map((name) => ({ name })),
              type: e.principal.method === 'service-account' ? 'System' : 'User',
              ...(e.principal.method === 'service-account' ? { type_id: 3 } : { type_id: 1 }),
            },
          }
        : {}),
      ...(e.client?.name !== undefined ? { app_name: e.client.name } : {}),
      ...(e.session !== undefined ? { session: { uid: e.session } } : {}),
    },
    src_endpoint: { ip: e.source.address, ...(e.source.port !== undefined ? { port: e.source.port } : {}) },
    ...(e.source.userAgent !== undefined ? { http_request: { user_agent: e.source.userAgent } } : {}),
    ...(e.decision
      ? {
          action_id: e.decision.effect === 'allow' ? 1 : 2,
          action: e.decision.effect === 'allow' ? 'Allowed' : 'Denied',
        }
      : {}),
    ...(e.reason !== undefined ? { status_detail: e.reason } : {}),
    resources: resourcesOf(e),
    unmapped: {
      portcullis: {
        instance: e.instance,
        seq: e.seq,
        prevHash: e.prevHash,
        hash: e.hash,
        outcome: e.outcome,
        ...(e.decision ? { decision: e.decision } : {}),
        ...(e.payload ? { payload: e.payload } : {}),
        ...(e.toolDigest !== undefined ? { toolDigest: e.toolDigest } : {}),
        ...(e.truncatedFields ? { truncatedFields: e.truncatedFields } : {}),
      },
    },
  };
  return record;
}

function resourcesOf(e: AuditEvent): Array<Record<string, unknown>> {
  const out: Array<Record<string, unknown>> = [];
  if (e.target?.tool !== undefined) out.push({ type: 'mcp.tool', name: e.target.tool });
  if (e.target?.prompt !== undefined) out.push({ type: 'mcp.prompt', name: e.target.prompt });
  if (e.target?.resource !== undefined) out.push({ type: 'mcp.resource', uid: e.target.resource });
  return out;
}
