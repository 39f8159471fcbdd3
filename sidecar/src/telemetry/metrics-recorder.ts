import type { McpRecord, Recorder } from '../record/mcp-record.ts';
import { AUTHN_REASONS, methodLabel, type RuleLabels, type ToolLabels } from './labels.ts';
import type { SidecarMetrics } from './metrics.ts';

// Plugs the metrics into the pipeline: each record counts once in requests, duration, own time,
// decisions and authentication failures, with label values only from the bounded sets in labels.ts.

export function createMetricsRecorder(
  metrics: SidecarMetrics,
  opts: { server: string; tools: ToolLabels; rules: RuleLabels },
): Recorder {
  const server = opts.server;
  return {
    record(r: McpRecord) {
      // What the server sent is audited, not counted as a request the sidecar handled.
      if (r.direction !== undefined) return;
      const method = methodLabel(r.method);
      const tool = opts.tools.label(r.target?.tool);
      const labels = { server, method, tool, outcome: r.outcome };
      metrics.requests.inc(labels);
      // A GET stream's latency is how long it stayed open, no request duration.
      if (r.httpMethod !== 'GET') metrics.requestDuration.observe(labels, r.latencyMs / 1000);
      metrics.ownDuration.observe({ server, method, outcome: r.outcome }, r.ownLatencyMs / 1000);
      if (r.upstreamLatencyMs !== undefined) {
        metrics.upstreamDuration.observe({ server, method, tool }, r.upstreamLatencyMs / 1000);
      }
      if (r.decision) {
        const rule = opts.rules.label(r.decision, r.method);
        metrics.decisions.inc({ server, method, tool, decision: r.decision.effect, rule });
      }
      // An identity provider that cannot be reached answers 503 (outcome failed): still an
      // authentication failure, and the one an outage alert looks for.
      if (r.outcome === 'unauthenticated' || (r.outcome === 'failed' && isAuthnCode(r.errorCode)))
        metrics.authnFailures.inc({ server, reason: authnReason(r) });
      if (typeof r.errorCode === 'string' && r.errorCode.startsWith('UPSTREAM_')) {
        metrics.upstreamErrors.inc({ server, method });
      }
    },
  };
}

function isAuthnCode(code: McpRecord['errorCode']): code is string {
  return typeof code === 'string' && AUTHN_REASONS.has(code);
}

function authnReason(r: McpRecord): string {
  if (isAuthnCode(r.errorCode)) return r.errorCode;
  // The pipeline may carry the authenticator's code at the start of the reason ("expired: ...").
  const head = r.reason?.split(/[:\s]/, 1)[0];
  return head !== undefined && AUTHN_REASONS.has(head) ? head : 'other';
}
