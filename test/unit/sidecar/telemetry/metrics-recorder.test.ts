import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import type { McpRecord } from '../../../../sidecar/src/record/mcp-record.ts';
import { createRuleLabels, createToolLabels } from '../../../../sidecar/src/telemetry/labels.ts';
import { createSidecarMetrics } from '../../../../sidecar/src/telemetry/metrics.ts';
import { createMetricsRecorder } from '../../../../sidecar/src/telemetry/metrics-recorder.ts';

const record = (overrides: Partial<McpRecord>): McpRecord => ({
  startedAt: 0,
  outcome: 'allowed',
  transport: 'streamable-http',
  httpMethod: 'POST',
  source: { address: '10.1.2.3' },
  method: 'tools/call',
  latencyMs: 2,
  ownLatencyMs: 1,
  ...overrides,
});

/** A recorder for server gh with no known tools or rules, and its registry. */
function plainRecorder() {
  const registry = new Registry();
  const recorder = createMetricsRecorder(createSidecarMetrics(registry), {
    server: 'gh',
    tools: createToolLabels({ limit: 10, known: [] }),
    rules: createRuleLabels({ limit: 10, known: [] }),
  });
  return { registry, recorder };
}

describe('metrics recorder', () => {
  it('counts each record with bounded labels only', async () => {
    const registry = new Registry();
    const m = createSidecarMetrics(registry);
    const recorder = createMetricsRecorder(m, {
      server: 'gh',
      tools: createToolLabels({ limit: 10, known: ['search'] }),
      rules: createRuleLabels({ limit: 10, known: [{ policy: 'gh/readers', name: 'search' }] }),
    });
    recorder.record(
      record({
        target: { tool: 'search' },
        decision: { effect: 'allow', policy: 'gh/readers', rule: 'search' },
        upstreamLatencyMs: 1,
      }),
    );
    recorder.record(
      record({ target: { tool: 'made-up-by-caller' }, outcome: 'denied', decision: { effect: 'deny' } }),
    );
    recorder.record(
      record({
        method: 'http',
        outcome: 'unauthenticated',
        errorCode: 'AUTHN',
        reason: 'expired: exp in the past',
        principal: undefined,
      }),
    );
    recorder.record(record({ method: 'x/unknown', outcome: 'failed', errorCode: 'UPSTREAM_TIMEOUT' }));
    recorder.record(record({ method: 'x/unknown', outcome: 'denied', decision: { effect: 'deny' } }));
    const text = await registry.metrics();
    expect(text).toContain(
      'portcullis_sidecar_requests_total{server="gh",method="tools/call",tool="search",outcome="allowed"} 1',
    );
    expect(text).toContain(
      'portcullis_sidecar_decisions_total{server="gh",method="tools/call",tool="other",decision="deny",rule="default-deny"} 1',
    );
    expect(text).toContain(
      'portcullis_sidecar_decisions_total{server="gh",method="tools/call",tool="search",decision="allow",rule="gh/readers/search"} 1',
    );
    expect(text).toContain(
      'portcullis_sidecar_decisions_total{server="gh",method="other",tool="",decision="deny",rule="method-denied"} 1',
    );
    expect(text).toContain('portcullis_sidecar_authn_failures_total{server="gh",reason="expired"} 1');
    expect(text).toContain('portcullis_sidecar_upstream_errors_total{server="gh",method="other"} 1');
    expect(text).toContain(
      'portcullis_sidecar_upstream_duration_seconds_count{server="gh",method="tools/call",tool="search"} 1',
    );
    expect(text).not.toContain('made-up-by-caller');
    expect(text).not.toContain('10.1.2.3');
  });

  it('counts no message the server sent, and no duration for a GET stream', async () => {
    const registry = new Registry();
    const m = createSidecarMetrics(registry);
    const recorder = createMetricsRecorder(m, {
      server: 'gh',
      tools: createToolLabels({ limit: 10 }),
      rules: createRuleLabels({ limit: 10, known: [] }),
    });
    recorder.record(record({ method: 'notifications/progress', direction: 'server-to-client' }));
    recorder.record(record({ method: 'http', httpMethod: 'GET', latencyMs: 600_000 }));
    const text = await registry.metrics();
    expect(text).not.toContain('method="notifications/progress"');
    expect(text).toMatch(/portcullis_sidecar_requests_total\{[^}]*method="http"[^}]*\} 1/);
    expect(text).not.toMatch(/portcullis_sidecar_request_duration_seconds_count\{[^}]*method="http"/);
  });

  it('counts an identity provider outage (503, outcome failed) as an authentication failure', async () => {
    const { registry, recorder } = plainRecorder();
    recorder.record(
      record({ method: 'http', outcome: 'failed', errorCode: 'issuer_unavailable', httpStatus: 503 }),
    );
    recorder.record(record({ method: 'tools/call', outcome: 'failed', errorCode: 'UPSTREAM_TIMEOUT' }));
    const text = await registry.metrics();
    expect(text).toContain(
      'portcullis_sidecar_authn_failures_total{server="gh",reason="issuer_unavailable"} 1',
    );
    expect(text).not.toMatch(/authn_failures_total\{server="gh",reason="other"\}/);
  });

  it("observes each record's own time once, in seconds, by server, method and outcome", async () => {
    const { registry, recorder } = plainRecorder();
    recorder.record(record({ latencyMs: 40, ownLatencyMs: 0.2, upstreamLatencyMs: 39 }));
    recorder.record(record({ latencyMs: 0.3, ownLatencyMs: 0.3, outcome: 'denied' }));
    const text = await registry.metrics();
    const own = 'portcullis_sidecar_own_duration_seconds';
    expect(text).toContain(`${own}_sum{server="gh",method="tools/call",outcome="allowed"} 0.0002\n`);
    expect(text).toContain(`${own}_count{server="gh",method="tools/call",outcome="allowed"} 1\n`);
    expect(text).toContain(
      `${own}_bucket{le="0.0002",server="gh",method="tools/call",outcome="allowed"} 1\n`,
    );
    expect(text).toContain(`${own}_bucket{le="0.0002",server="gh",method="tools/call",outcome="denied"} 0\n`);
    expect(text).toContain(`${own}_count{server="gh",method="tools/call",outcome="denied"} 1\n`);
  });
});
