import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { createRuleLabels, createToolLabels, methodLabel } from '../../../../sidecar/src/telemetry/labels.ts';
import { createSidecarMetrics } from '../../../../sidecar/src/telemetry/metrics.ts';

describe('sidecar metrics', () => {
  it('registers every documented metric with its labels in its own registry', async () => {
    const registry = new Registry();
    const m = createSidecarMetrics(registry);
    m.requests.inc({ server: 's', method: 'tools/call', tool: 'echo', outcome: 'allowed' });
    m.decisions.inc({ server: 's', method: 'tools/call', tool: 'echo', decision: 'deny', rule: 'p/r' });
    m.auditEvents.inc({ sink: 'stdout', result: 'delivered' }, 3);
    m.configLastReloadSuccess.set(1);
    const text = await registry.metrics();
    expect(text).toContain(
      'portcullis_sidecar_requests_total{server="s",method="tools/call",tool="echo",outcome="allowed"} 1',
    );
    expect(text).toContain(
      'portcullis_sidecar_decisions_total{server="s",method="tools/call",tool="echo",decision="deny",rule="p/r"} 1',
    );
    expect(text).toContain('portcullis_sidecar_audit_events_total{sink="stdout",result="delivered"} 3');
    expect(text).toContain('portcullis_sidecar_config_last_reload_success 1');
    const all = (await registry.getMetricsAsJSON()).map((x) => x.name).sort();
    // prom-client's process metrics (heap, RSS, CPU, event loop, GC) under the sidecar's prefix
    expect(all).toEqual(
      expect.arrayContaining([
        'portcullis_sidecar_process_resident_memory_bytes',
        'portcullis_sidecar_nodejs_heap_size_used_bytes',
      ]),
    );
    const names = all.filter((n) => !/^portcullis_sidecar_(process|nodejs)_/.test(n));
    expect(names).toEqual([
      'portcullis_sidecar_active_sessions',
      'portcullis_sidecar_audit_events_total',
      'portcullis_sidecar_audit_queue_bytes',
      'portcullis_sidecar_audit_queue_capacity',
      'portcullis_sidecar_audit_queue_depth',
      'portcullis_sidecar_authn_failures_total',
      'portcullis_sidecar_config_last_reload_success',
      'portcullis_sidecar_config_last_reload_success_timestamp_seconds',
      'portcullis_sidecar_config_reloads_total',
      'portcullis_sidecar_decisions_total',
      'portcullis_sidecar_definition_drift_total',
      'portcullis_sidecar_info',
      'portcullis_sidecar_own_duration_seconds',
      'portcullis_sidecar_pinned_definitions',
      'portcullis_sidecar_request_duration_seconds',
      'portcullis_sidecar_requests_total',
      'portcullis_sidecar_stdio_processes',
      'portcullis_sidecar_stdio_processes_failed_total',
      'portcullis_sidecar_stdio_processes_reclaimed_total',
      'portcullis_sidecar_stdio_processes_started_total',
      'portcullis_sidecar_stdio_sessions_refused_total',
      'portcullis_sidecar_stdio_startup_duration_seconds',
      'portcullis_sidecar_upstream_credentials_total',
      'portcullis_sidecar_upstream_duration_seconds',
      'portcullis_sidecar_upstream_errors_total',
    ]);
  });

  it('uses no label that could carry a user or session id', async () => {
    const registry = new Registry();
    createSidecarMetrics(registry);
    const allowed = new Set([
      'server',
      'method',
      'tool',
      'decision',
      'rule',
      'outcome',
      'sink',
      'result',
      'reason',
      'state',
      'phase',
      'pool',
      'mode',
      'kind', // tool, prompt, resourceTemplate, instructions
      'effect', // held, observed
    ]);
    // The process metrics' labels describe the runtime (GC kind, heap space, Node version).
    const runtime = /^portcullis_sidecar_(process|nodejs)_/;
    for (const metric of (await registry.getMetricsAsJSON()).filter((m) => !runtime.test(m.name))) {
      const labelNames = (registry.getSingleMetric(metric.name) as unknown as { labelNames: string[] })
        .labelNames;
      for (const l of labelNames) expect(allowed, `${metric.name}{${l}}`).toContain(l);
    }
  });

  it('two sidecars in one process keep separate registries', () => {
    expect(() => {
      createSidecarMetrics(new Registry());
      createSidecarMetrics(new Registry());
    }).not.toThrow();
  });
});

describe('bounded labels', () => {
  it.each([
    { method: 'tools/call', label: 'tools/call' },
    { method: 'resources/read', label: 'resources/read' },
    { method: 'x/made-up-by-a-caller', label: 'other' },
  ])('method $method → $label', ({ method, label }) => {
    expect(methodLabel(method)).toBe(label);
  });

  it('keeps configured and observed tool names up to the cap and folds the rest into "other"', () => {
    const tools = createToolLabels({ limit: 3, known: ['a'] });
    tools.observe(['b', 'c', 'd', 'e']);
    expect(['a', 'b', 'c', 'd', 'never-listed'].map((t) => tools.label(t))).toEqual([
      'a',
      'b',
      'c',
      'other',
      'other',
    ]);
    expect(tools.size).toBe(3);
    expect(tools.label(undefined)).toBe('');
  });
});

describe('rule labels', () => {
  const rules = createRuleLabels({
    limit: 2,
    known: [
      { policy: 'team/readers', name: 'read' },
      { policy: 'team/guards', name: 'no-env' },
      { policy: 'team/late', name: 'over-the-cap' },
    ],
  });

  it.each([
    {
      name: 'a configured rule',
      d: { effect: 'deny', policy: 'team/guards', rule: 'no-env' },
      method: 'tools/call',
      want: 'team/guards/no-env',
    },
    {
      name: 'an allow rule',
      d: { effect: 'allow', policy: 'team/readers', rule: 'read' },
      method: 'tools/call',
      want: 'team/readers/read',
    },
    {
      name: 'a rule past the cap',
      d: { effect: 'deny', policy: 'team/late', rule: 'over-the-cap' },
      method: 'tools/call',
      want: 'other',
    },
    {
      name: 'a rule never configured',
      d: { effect: 'deny', policy: 'x', rule: 'y' },
      method: 'tools/call',
      want: 'other',
    },
    { name: 'no rule allowed the call', d: { effect: 'deny' }, method: 'tools/call', want: 'default-deny' },
    { name: 'a call naming no tool', d: { effect: 'deny' }, method: 'prompts/get', want: 'default-deny' },
    { name: 'a method outside the table', d: { effect: 'deny' }, method: 'x/made-up', want: 'method-denied' },
    { name: 'an open method', d: { effect: 'allow' }, method: 'ping', want: '' },
  ] as const)('$name → "$want"', ({ d, method, want }) => {
    expect(rules.label(d, method)).toBe(want);
  });

  it('learns rules of a reload only up to the cap', () => {
    const r = createRuleLabels({ limit: 1, known: [] });
    r.observe([{ policy: 'p', name: 'a' }]);
    r.observe([{ policy: 'p', name: 'b' }]);
    expect([r.label({ effect: 'deny', policy: 'p', rule: 'a' }, 'tools/call'), r.size]).toEqual(['p/a', 1]);
    expect(r.label({ effect: 'deny', policy: 'p', rule: 'b' }, 'tools/call')).toBe('other');
  });
});
