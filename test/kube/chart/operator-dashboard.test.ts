import { join } from 'node:path';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { dashboardQueries } from '../../../charts/scripts/dashboard-queries.ts';
import { parseOptions } from '../../../operator/src/manager/options.ts';
import { type RunningOperator, runOperator } from '../../../operator/src/manager/run.ts';
import { type EverythingServer, startEverything } from '../../../sidecar/src/quickstart/everything.ts';
import type { RunningSidecar } from '../../../sidecar/src/server/sidecar.ts';
import { config, sidecarFor } from '../../support/harness.ts';
import { createNamespace, eventually, kubectl } from '../../support/kube.ts';
import { type RunningPrometheus, startPrometheus } from '../../support/prometheus.ts';
import { applyCrds } from '../operator/harness.ts';

// The operator dashboard against real parts: the operator reconciling the examples on the control
// plane, plus one McpServer whose status writes an admission policy refuses (so reconcile errors
// happen for real), scraped every second by Debian's prometheus, which also evaluates the chart's
// alert rules. Every panel's and annotation's query returns data.

const ROOT = new URL('../../../', import.meta.url).pathname;

function blockStatusWrites(namespace: string): string {
  const name = `block-mcp-status-${namespace}`;
  return [
    {
      apiVersion: 'admissionregistration.k8s.io/v1',
      kind: 'ValidatingAdmissionPolicy',
      metadata: { name },
      spec: {
        failurePolicy: 'Fail',
        matchConstraints: {
          resourceRules: [
            {
              apiGroups: ['portcullis.dev'],
              apiVersions: ['*'],
              operations: ['CREATE', 'UPDATE'],
              resources: ['mcpservers/status'],
            },
          ],
        },
        validations: [{ expression: 'false', message: 'status writes are blocked here (test)' }],
      },
    },
    {
      apiVersion: 'admissionregistration.k8s.io/v1',
      kind: 'ValidatingAdmissionPolicyBinding',
      metadata: { name },
      spec: {
        policyName: name,
        validationActions: ['Deny'],
        matchResources: {
          namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': namespace } },
        },
      },
    },
  ]
    .map((o) => JSON.stringify(o))
    .join('\n');
}
const queries = dashboardQueries().filter((q) => q.dashboard === 'operator.json');

describe('the operator dashboard with a real Prometheus', () => {
  let ok: Awaited<ReturnType<typeof createNamespace>>;
  let blocked: Awaited<ReturnType<typeof createNamespace>>;
  let operator: RunningOperator | undefined;
  let prometheus: RunningPrometheus | undefined;
  // The sidecar of the ok namespace's server, run here (kwok pods run no containers) and scraped
  // with the namespace label a PodMonitor would give it.
  let everything: EverythingServer | undefined;
  let sidecar: RunningSidecar | undefined;

  beforeAll(async () => {
    await applyCrds();
    ok = await createNamespace('dash-ok');
    blocked = await createNamespace('dash-blocked');
    // An admission policy that refuses every status write in one namespace: the operator's
    // reconciles there fail for real, as they would behind a too-strict policy engine.
    await kubectl(['apply', '-f', '-'], blockStatusWrites(blocked.name));
    // The API server enforces a new admission policy a moment after it is stored: wait until a status
    // write is really refused, or the operator's first status write could still pass.
    await kubectl(['apply', '-n', blocked.name, '-f', join(ROOT, 'examples', 'everything-server.yaml')]);
    await eventually('status writes refused in the blocked namespace', async () => {
      const refused = await kubectl([
        'patch',
        'mcpserver',
        'everything',
        '-n',
        blocked.name,
        '--subresource=status',
        '--type=merge',
        '-p',
        '{"status":{"phase":"Pending"}}',
      ]).then(
        () => false,
        (err: unknown) => String(err).includes('status writes are blocked'),
      );
      return refused ? true : undefined;
    });
    const options = parseOptions(
      [
        `--kubeconfig=${inject('kubeconfig')}`,
        `--namespaces=${ok.name},${blocked.name}`,
        '--leader-elect=false',
        '--health-addr=127.0.0.1:0',
        '--sidecar-image=portcullis/sidecar:test',
        '--identity=dashboard-test',
      ],
      {},
    );
    operator = await runOperator(options, { log: pino({ level: 'silent' }) });
    everything = await startEverything('streamableHttp');
    const cfg = config({ upstream: { transport: 'streamable-http', url: everything.url } });
    sidecar = await sidecarFor({ ...cfg, server: { ...cfg.server, name: 'everything' } });
    prometheus = await startPrometheus(
      [
        { job: 'portcullis-operator', targets: [`127.0.0.1:${operator.health.port}`] },
        {
          job: 'any-name',
          targets: [new URL(sidecar.adminUrl).host],
          labels: { namespace: ok.name, pod: 'everything-0' },
        },
      ],
      { ruleFiles: [join(ROOT, 'charts', 'portcullis', 'rules', 'portcullis-alerts.yaml')] },
    );
    // The blocked namespace's Deployment is already written: once Prometheus has that count, the
    // examples' Deployments are an increase it sees (the rollout annotation).
    await eventually('the first Deployment write scraped', async () => {
      const r = await prometheus?.query('portcullis_operator_api_writes_total{resource="deployments"}');
      return (r?.data?.result.length ?? 0) > 0 ? true : undefined;
    });
    await kubectl(['apply', '-n', ok.name, '-f', join(ROOT, 'examples')]);
    await kubectl(['apply', '-n', blocked.name, '-f', join(ROOT, 'examples', 'everything-server.yaml')]);
    await eventually(
      'a Ready server and reconcile errors, scraped',
      async () => {
        const r = await prometheus?.query(
          'sum(portcullis_operator_reconcile_errors_total) > 0 and on() sum(portcullis_operator_mcpservers{phase="Ready"}) > 0',
        );
        return (r?.data?.result.length ?? 0) > 0 ? true : undefined;
      },
      { timeoutMs: 90_000 },
    ).catch(async (err: unknown) => {
      const page = await fetch(`http://127.0.0.1:${operator?.health.port}/metrics`).then((r) => r.text());
      const lines = page
        .split('\n')
        .filter((l) => l.startsWith('portcullis_operator_') && !l.includes('_bucket'));
      throw new Error(`${String(err)}\n--- operator /metrics\n${lines.join('\n')}`);
    });
    // A few more scrapes so that every rate() has samples on both sides of the errors.
    await new Promise((r) => setTimeout(r, 4000));
  });
  afterAll(async () => {
    await prometheus?.stop();
    await sidecar?.close();
    await everything?.close();
    await operator?.stop();
    if (blocked) {
      const name = `block-mcp-status-${blocked.name}`;
      await kubectl([
        'delete',
        'validatingadmissionpolicybinding,validatingadmissionpolicy',
        name,
        '--ignore-not-found',
      ]);
    }
    for (const ns of [ok, blocked]) await ns?.remove();
  });

  it.each(queries.map((q) => [`${q.panel} / ${q.refId}`, q] as const))(
    '%s returns data',
    async (_name, q) => {
      const r = await prometheus?.query(q.promql);
      expect(r?.error, q.promql).toBeUndefined();
      expect(r?.data?.result.length, q.promql).toBeGreaterThan(0);
    },
  );

  // The alert rules evaluated by the same Prometheus against the real operator's series: the label
  // conventions (server_namespace, the join to the sidecars' namespace and server) hold.
  it('PortcullisSidecarDown is pending for the McpServer without a sidecar, not for the one whose sidecar answers', async () => {
    const r = await prometheus?.query('ALERTS{alertname="PortcullisSidecarDown"}');
    const servers = ((r?.data?.result ?? []) as { metric: { namespace: string; server: string } }[]).map(
      (s) => `${s.metric.namespace}/${s.metric.server}`,
    );
    expect(servers).toEqual([`${blocked.name}/everything`]);
  });

  it('PortcullisMcpServerNotReady is pending for the server whose status cannot be written, not the Ready one', async () => {
    const r = await prometheus?.query('ALERTS{alertname="PortcullisMcpServerNotReady"}');
    const servers = (
      (r?.data?.result ?? []) as { metric: { server_namespace: string; server: string } }[]
    ).map((s) => `${s.metric.server_namespace}/${s.metric.server}`);
    expect(servers).toEqual([`${blocked.name}/everything`]);
  });
});
