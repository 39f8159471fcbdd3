import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { ResultSchema } from '@modelcontextprotocol/sdk/types.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { dashboardQueries, metricNames } from '../../../charts/scripts/dashboard-queries.ts';
import { type HealthServer, startHealthServer } from '../../../operator/src/health/server.ts';
import { createMetrics } from '../../../operator/src/metrics/metrics.ts';
import { validateConfig } from '../../../sidecar/src/config/load.ts';
import { definitionOf } from '../../../sidecar/src/pinning/definitions.ts';
import {
  type EverythingServer,
  freePort,
  startEverything,
} from '../../../sidecar/src/quickstart/everything.ts';
import type { RunningSidecar } from '../../../sidecar/src/server/sidecar.ts';
import { allow, deny, KEYS, rawConfig, sidecarFor } from '../../support/harness.ts';
import { exposedNames, type RunningPrometheus, startPrometheus } from '../../support/prometheus.ts';

// The Grafana dashboards against real parts: two running sidecars (one in front of the everything
// server, one whose upstream is down) and the operator's metrics endpoint, scraped every second by
// Debian's prometheus. Every dashboard expression (panels, annotations, variables) and every alert
// rule parses in Prometheus, every metric they name is on a live /metrics page, and under light
// traffic with configuration reloads (one good, one refused) every sidecar panel's and annotation's
// query returns data. (The operator's panels need reconciles, hence a cluster: they return data in
// test/kube/chart/operator-dashboard.test.ts; only parsing and names are checked here.)

const queries = dashboardQueries();
const SIDECAR_DASHBOARDS = ['mcp-overview.json', 'security.json'];
const RULES = new URL('../../../charts/portcullis/rules/portcullis-alerts.yaml', import.meta.url);

/** Every alert and recording rule's expression, by name. */
async function ruleExpressions(): Promise<{ name: string; expr: string }[]> {
  const file = parse(await readFile(RULES, 'utf8')) as {
    groups: { rules: { alert?: string; record?: string; expr: string }[] }[];
  };
  return file.groups.flatMap((g) => g.rules.map((r) => ({ name: r.alert ?? r.record ?? '', expr: r.expr })));
}

let everything: EverythingServer;
let healthy: RunningSidecar;
let broken: RunningSidecar;
let operatorMetrics: HealthServer;
let prometheus: RunningPrometheus;
const configs = new Map<RunningSidecar, ReturnType<typeof validateConfig>>();

async function sidecar(name: string, upstreamUrl: string, deadSinkPort: number): Promise<RunningSidecar> {
  const dir = await mkdtemp(join(tmpdir(), `portcullis-dash-${name}-`));
  const raw = rawConfig({
    upstream: { transport: 'streamable-http', url: upstreamUrl },
    rules: [
      allow('engineers-tools', {
        subjects: [{ group: 'engineering' }],
        tools: ['echo', 'get-sum', 'get-env'],
      }),
      deny('no-env', { tools: ['get-env'] }),
      // Evaluated, audited and counted, enforced never: the dry-run panel's data.
      deny('no-sum-yet', { tools: ['get-sum'], enforcement: 'DryRun' }),
    ],
    audit: {
      // One sink that works and one whose receiver is down with room for one event: drops.
      queue: { maxEvents: 1, retryInitialMs: 10, retryMaxMs: 50 },
      sinks: [
        { type: 'file', name: 'file', path: join(dir, 'audit.ndjson') },
        { type: 'http', name: 'siem', url: `http://127.0.0.1:${deadSinkPort}/services/collector/event` },
      ],
    },
  });
  raw.server.name = name;
  const result = validateConfig({ ...raw, pinning: { mode: 'TrustOnFirstUse' } });
  if (!result.ok) throw new Error(`config: ${JSON.stringify(result.issues)}`);
  const running = await sidecarFor(result.config, undefined, { audit: 'config' });
  configs.set(running, result);
  return running;
}

async function traffic(url: string, key: string) {
  const client = new Client({ name: 'dashboard-test', version: '1' });
  const transport = new StreamableHTTPClientTransport(new URL(url), {
    requestInit: { headers: { 'x-api-key': key } },
  });
  try {
    await client.connect(transport);
    await client.listTools();
    await client.callTool({ name: 'echo', arguments: { message: 'hi' } });
    await client.callTool({ name: 'get-sum', arguments: { a: 1, b: 2 } });
    await client.callTool({ name: 'get-env', arguments: {} }).catch(() => undefined); // denied
  } catch {
    // the broken sidecar fails at initialize: that is the traffic wanted there
  } finally {
    await client.close().catch(() => undefined);
  }
}

async function unauthenticated(url: string) {
  for (const headers of [{}, { 'x-api-key': 'not-a-key-0123456789' }]) {
    await fetch(url, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        accept: 'application/json, text/event-stream',
        ...headers,
      },
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list' }),
    }).then((r) => r.text());
  }
}

beforeAll(async () => {
  const deadPort = await freePort();
  everything = await startEverything('streamableHttp');
  healthy = await sidecar('everything', everything.url, deadPort);
  broken = await sidecar('broken', `http://127.0.0.1:${deadPort}/mcp`, deadPort);
  operatorMetrics = await startHealthServer(
    '127.0.0.1',
    0,
    { live: () => true, ready: () => ({ ok: true, reason: 'test' }), leading: () => true },
    createMetrics().registry,
  );
  const target = (u: string) => new URL(u).host;
  prometheus = await startPrometheus(
    [
      { job: 'portcullis-sidecars', targets: [target(healthy.adminUrl), target(broken.adminUrl)] },
      { job: 'portcullis-operator', targets: [`127.0.0.1:${operatorMetrics.port}`] },
    ],
    { ruleFiles: [RULES.pathname] },
  );
  // Light traffic over a few scrapes, so that rates have samples on both sides.
  for (let round = 0; round < 4; round++) {
    await traffic(healthy.url, KEYS.alice);
    await traffic(healthy.url, KEYS.bob);
    await traffic(broken.url, KEYS.alice);
    await unauthenticated(healthy.url);
    // A good reload and a refused one, for the reload panels and annotations: after Prometheus has
    // seen the counters at 0, so that the increase is visible.
    if (round === 1) {
      await waitForQuery('count(portcullis_sidecar_config_reloads_total) >= 4');
      // The good reload approves only the tools the traffic calls, under Enforce: the others are
      // held (pinning panels), the calls still pass.
      expect(healthy.reload(await enforcing(configs.get(healthy), ['echo', 'get-sum']))).toBe(true);
      expect(broken.reload({ ok: false, issues: [{ path: '/x', message: 'test' }], digest: 'x' })).toBe(
        false,
      );
    }
    await new Promise((r) => setTimeout(r, 1000));
  }
  await waitForScrapes(3);
}, 120_000);

/** The configuration with pinning Enforce and pins for the named tools as the upstream shows them. */
async function enforcing(result: ReturnType<typeof validateConfig> | undefined, tools: string[]) {
  if (result === undefined || !result.ok) throw new Error('no healthy config');
  const client = new Client({ name: 'dashboard-pins', version: '1' });
  await client.connect(new StreamableHTTPClientTransport(new URL(everything.url)));
  const listed = (await client.request({ method: 'tools/list', params: {} }, ResultSchema)) as {
    tools: unknown[];
  };
  await client.close();
  const pins = listed.tools
    .map((t) => definitionOf('tool', t))
    .filter((d) => d !== undefined && tools.includes(d.name))
    .map((d) => ({ kind: 'tool' as const, name: d?.name as string, digest: d?.digest as string }));
  expect(pins.length).toBe(tools.length);
  return validateConfig({ ...result.config, pinning: { mode: 'Enforce', pins } });
}

/** Waits until a query returns a sample. */
async function waitForQuery(promql: string) {
  for (let i = 0; i < 100; i++) {
    if (((await prometheus.query(promql)).data?.result.length ?? 0) > 0) return;
    await new Promise((res) => setTimeout(res, 250));
  }
  throw new Error(`prometheus never answered ${promql}`);
}

/** Waits until Prometheus has scraped every target at least n times since the traffic. */
async function waitForScrapes(n: number) {
  for (let i = 0; i < 100; i++) {
    const r = await prometheus.query('min(count_over_time(up[10s]))');
    const v = Number((r.data?.result[0] as { value?: [number, string] } | undefined)?.value?.[1] ?? 0);
    if (v >= n) {
      await new Promise((res) => setTimeout(res, 2000));
      return;
    }
    await new Promise((res) => setTimeout(res, 250));
  }
  throw new Error('prometheus did not scrape the targets');
}

afterAll(async () => {
  await prometheus?.stop();
  await healthy?.close();
  await broken?.close();
  await operatorMetrics?.close();
  await everything?.close();
});

describe('Grafana dashboards against a real Prometheus', () => {
  it('scrapes every target', async () => {
    const r = await prometheus.query('up');
    expect(r.data?.result).toHaveLength(3);
    for (const s of (r.data?.result ?? []) as { value: [number, string] }[]) expect(s.value[1]).toBe('1');
  });

  it.each(queries.map((q) => [`${q.dashboard} / ${q.panel} / ${q.refId}`, q] as const))(
    '%s parses in Prometheus',
    async (_name, q) => {
      const r = await prometheus.query(q.promql);
      expect(r.error, q.promql).toBeUndefined();
      expect(r.httpStatus).toBe(200);
    },
  );

  it('every alert and recording rule parses in Prometheus and names only live metrics', async () => {
    const pages = await Promise.all(
      [`${healthy.adminUrl}/metrics`, `http://127.0.0.1:${operatorMetrics.port}/metrics`].map((u) =>
        fetch(u).then((r) => r.text()),
      ),
    );
    const live = new Set(pages.flatMap((p) => [...exposedNames(p)]));
    const rules = await ruleExpressions();
    const recorded = new Set(rules.map((r) => r.name).filter((n) => n.includes(':')));
    for (const r of rules) {
      const result = await prometheus.query(r.expr);
      expect(result.error, r.name).toBeUndefined();
      for (const m of metricNames(r.expr))
        expect(live.has(m) || recorded.has(m), `${r.name}: ${m}`).toBe(true);
    }
  });

  it('the alert rules, evaluated live, catch the full queue of the dead sink and not the working one', async () => {
    await waitForQuery('ALERTS{alertname="PortcullisAuditQueueNearFull"}');
    const near = await prometheus.query('ALERTS{alertname="PortcullisAuditQueueNearFull"}');
    const sinks = new Set(
      ((near.data?.result ?? []) as { metric: { sink: string } }[]).map((s) => s.metric.sink),
    );
    expect([...sinks]).toEqual(['siem']);
    const dropped = await prometheus.query(
      'ALERTS{alertname="PortcullisAuditEventsDropped", alertstate="firing"}',
    );
    expect(
      ((dropped.data?.result ?? []) as { metric: { sink: string } }[]).map((s) => s.metric.sink),
    ).toContain('siem');
  });

  it('names only metrics that a live sidecar or operator /metrics exposes', async () => {
    const pages = await Promise.all(
      [`${healthy.adminUrl}/metrics`, `http://127.0.0.1:${operatorMetrics.port}/metrics`].map((u) =>
        fetch(u).then((r) => r.text()),
      ),
    );
    const live = new Set(pages.flatMap((p) => [...exposedNames(p)]));
    for (const q of queries) {
      for (const m of metricNames(q.promql))
        expect(live.has(m), `${q.dashboard} / ${q.panel}: ${m}`).toBe(true);
    }
  });

  it('security / Denials by rule names the deny rule and the default deny', async () => {
    const q = queries.find((x) => x.dashboard === 'security.json' && x.panel === 'Denials by rule');
    expect(q).toBeDefined();
    const r = await prometheus.query(q?.promql ?? '');
    const rules = ((r.data?.result ?? []) as { metric: { rule?: string } }[])
      .map((s) => s.metric.rule)
      .sort();
    // alice's get-env hits the deny rule; bob (sales) is allowed nothing, so no rule decides for him
    expect(rules).toEqual(['default-deny', 'test/policy/no-env']);
  });

  it.each(
    queries
      .filter((q) => SIDECAR_DASHBOARDS.includes(q.dashboard))
      .map((q) => [`${q.dashboard} / ${q.panel} / ${q.refId}`, q] as const),
  )('%s returns data from the scraped sidecars', async (_name, q) => {
    const r = await prometheus.query(q.promql);
    expect(r.data?.result.length, q.promql).toBeGreaterThan(0);
  });
});
