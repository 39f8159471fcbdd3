import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import {
  dashboardQueries,
  loadDashboards,
  metricNames,
  substituteVariables,
} from '../../../charts/scripts/dashboard-queries.ts';
import { createMetrics } from '../../../operator/src/metrics/metrics.ts';
import { createSidecarMetrics } from '../../../sidecar/src/telemetry/metrics.ts';

// The Grafana dashboards: well-formed, and every metric they query is one the sidecar or the operator
// registers (read from their metric modules). The live checks (PromQL parsed by Prometheus, data
// from a scraped sidecar) are in test/integration/monitoring/dashboards.test.ts.

/** Sample names of every registered family: histograms as _bucket, _sum and _count. */
async function exported(): Promise<Set<string>> {
  const families = [
    ...(await createSidecarMetrics(new Registry()).registry.getMetricsAsJSON()),
    ...(await createMetrics().registry.getMetricsAsJSON()),
  ].map((f) => ({ name: f.name, type: String(f.type) }));
  return new Set(
    families.flatMap((f) =>
      f.type === 'histogram' ? [`${f.name}_bucket`, `${f.name}_sum`, `${f.name}_count`] : [f.name],
    ),
  );
}

describe('Grafana dashboards', () => {
  const dashboards = loadDashboards();

  it('are the three the chart promises, with unique uids', () => {
    expect([...dashboards.keys()]).toEqual(['mcp-overview.json', 'operator.json', 'security.json']);
    const uids = [...dashboards.values()].map((d) => d.uid);
    expect(new Set(uids).size).toBe(uids.length);
  });

  it.each([...dashboards])('%s: panels have unique ids, a data source variable and queries', (_file, d) => {
    const panels = d.panels as unknown as {
      id: number;
      type: string;
      targets?: { expr?: string }[];
      datasource?: { uid: string };
    }[];
    const ids = panels.map((p) => p.id);
    expect(new Set(ids).size).toBe(ids.length);
    expect(d.templating.list.some((v) => v.type === 'datasource')).toBe(true);
    for (const p of panels.filter((x) => x.type !== 'row')) {
      expect(p.datasource?.uid).toBe('\u0024{datasource}');
      expect(p.targets?.length).toBeGreaterThan(0);
      for (const t of p.targets ?? []) expect(t.expr).toBeTruthy();
    }
  });

  it('query only metrics the sidecar or the operator exports', async () => {
    const names = await exported();
    for (const q of dashboardQueries(dashboards)) {
      const used = metricNames(q.promql);
      expect(used.length, `${q.dashboard} ${q.panel}`).toBeGreaterThan(0);
      for (const m of used) expect(names.has(m), `${q.dashboard} / ${q.panel}: ${m}`).toBe(true);
    }
  });

  it.each([
    ['interval variables', 'rate(x[$__rate_interval]) / $__range', 'rate(x[1m]) / 5m'],
    [
      'label variables',
      'x{namespace=~"$namespace", server=~"\u0024{server}"}',
      'x{namespace=~".*", server=~".*"}',
    ],
  ])('substitutes Grafana %s', (_name, expr, want) => {
    expect(substituteVariables(expr)).toBe(want);
  });

  it.each([
    [
      'a histogram quantile',
      'histogram_quantile(0.99, sum by (le) (rate(a_bucket{x="y"}[1m])))',
      ['a_bucket'],
    ],
    ['binary operators and matching', 'a / on(x) group_left(y) b or vector(0)', ['a', 'b']],
    ['functions and numbers only', 'time() - 1e3', []],
  ])('finds the metric names in %s', (_name, expr, want) => {
    expect(metricNames(expr).sort()).toEqual(want);
  });
});
