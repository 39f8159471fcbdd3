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

  it('plot the time the sidecar adds from its own histogram, not as a difference of quantiles', () => {
    const added = dashboardQueries(dashboards).filter(
      (q) => q.dashboard === 'mcp-overview.json' && q.panel === 'Time added by the sidecar',
    );
    expect(added.map((q) => q.refId)).toEqual(['A', 'B', 'C']);
    for (const q of added) {
      expect(metricNames(q.promql)).toEqual(['portcullis_sidecar_own_duration_seconds_bucket']);
      expect(q.expr).not.toMatch(/\)\s*-\s*histogram_quantile/);
    }
  });

  it.each(['mcp-overview.json', 'security.json'])(
    '%s: every panel and annotation follows the server variable (audit and process metrics too)',
    (file) => {
      for (const q of dashboardQueries(dashboards).filter(
        (x) => x.dashboard === file && !x.panel.startsWith('variable '),
      ))
        expect(q.expr, `${q.panel} / ${q.refId}`).toMatch(/server=~"\$server"/);
    },
  );

  it.each([
    ['mcp-overview.json', ['Configuration reloads', 'Sidecar rollouts']],
    ['security.json', ['Configuration reloads']],
    ['operator.json', ['McpServer rollouts']],
  ])('%s: annotations mark %j', (file, names) => {
    expect(dashboards.get(file)?.annotations.list.map((a) => a.name)).toEqual(names);
  });

  it('link to each other: the Portcullis dashboards menu, and data links that keep the server', () => {
    for (const d of dashboards.values()) {
      expect(d.links).toEqual([expect.objectContaining({ type: 'dashboards', tags: ['portcullis'] })]);
      expect(d.tags).toContain('portcullis');
    }
    const urls = [...dashboards.values()].flatMap((d) =>
      (d.panels as unknown as { fieldConfig?: { defaults?: { links?: { url: string }[] } } }[]).flatMap(
        (p) => p.fieldConfig?.defaults?.links?.map((l) => l.url) ?? [],
      ),
    );
    const uids = new Set([...dashboards.values()].map((d) => d.uid));
    expect(urls.length).toBeGreaterThanOrEqual(3);
    for (const u of urls) {
      expect(uids.has(/^\/d\/([\w-]+)\?/.exec(u)?.[1] ?? ''), u).toBe(true);
      expect(u).toMatch(/var-server=\$\{__field\.labels\.server\}/);
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
