import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse, parseAllDocuments } from 'yaml';
import { CHART, helm, monitoringCrds, template } from '../../support/helm.ts';
import { createNamespace, kubectl, uniqueName } from '../../support/kube.ts';

// `helm lint` and `helm template` over a matrix of values, each rendering applied to the real API
// server with `kubectl apply --server-side --dry-run=server`, CRDs included. ServiceMonitor,
// PodMonitor and PrometheusRule are checked against minimal copies of the prometheus-operator CRDs
// (kinds and scope only); the alert rules themselves are checked by promtool in
// test/integration/monitoring/.

interface Rendered {
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string> };
  spec?: unknown;
  data?: Record<string, string>;
}

const monitoringOn = {
  serviceMonitor: { enabled: true },
  podMonitor: { enabled: true },
  prometheusRule: { enabled: true },
  dashboards: { enabled: true },
};
const monitoringOff = {
  serviceMonitor: { enabled: false },
  podMonitor: { enabled: false },
  prometheusRule: { enabled: false },
  dashboards: { enabled: false },
};

function kinds(yamlText: string): Rendered[] {
  return parseAllDocuments(yamlText)
    .map((d) => d.toJS() as Rendered | null)
    .filter((o): o is Rendered => o !== null);
}

describe('the Helm chart renders objects the API server accepts', () => {
  let releaseNs: Awaited<ReturnType<typeof createNamespace>>;
  let watched: Awaited<ReturnType<typeof createNamespace>>[];

  beforeAll(async () => {
    releaseNs = await createNamespace('chart-tpl');
    watched = [await createNamespace('chart-w1'), await createNamespace('chart-w2')];
    await kubectl(['apply', '--server-side', '-f', '-'], monitoringCrds());
    await kubectl([
      'wait',
      '--for=condition=Established',
      '--timeout=60s',
      'crd/servicemonitors.monitoring.coreos.com',
      'crd/podmonitors.monitoring.coreos.com',
      'crd/prometheusrules.monitoring.coreos.com',
    ]);
  });
  afterAll(async () => {
    for (const ns of [releaseNs, ...watched]) await ns?.remove();
  });

  it('passes helm lint in cluster and namespace mode', async () => {
    await helm(['lint', CHART, '--strict']);
    await helm([
      'lint',
      CHART,
      '--strict',
      '--set',
      'watch.mode=namespaces',
      '--set',
      'watch.namespaces={team-a,team-b}',
    ]);
  });

  const matrix = [
    {
      name: 'cluster mode, monitoring on',
      watch: () => ({ mode: 'cluster' }),
      monitoring: monitoringOn,
      expect: ['ClusterRole', 'ClusterRoleBinding', 'ServiceMonitor', 'PodMonitor', 'PrometheusRule'],
      absent: ['Role/operator'],
    },
    {
      name: 'cluster mode, monitoring off',
      watch: () => ({ mode: 'cluster' }),
      monitoring: monitoringOff,
      expect: ['ClusterRole', 'ClusterRoleBinding'],
      absent: ['ServiceMonitor', 'PodMonitor', 'PrometheusRule', 'ConfigMap/dashboard'],
    },
    {
      name: 'namespace mode, monitoring on',
      watch: (w: string[]) => ({ mode: 'namespaces', namespaces: w }),
      monitoring: monitoringOn,
      expect: ['Role', 'RoleBinding', 'ServiceMonitor', 'PodMonitor', 'PrometheusRule'],
      absent: ['ClusterRole/operator', 'ClusterRoleBinding'],
    },
    {
      name: 'namespace mode, monitoring off, no leader election',
      watch: (w: string[]) => ({ mode: 'namespaces', namespaces: w }),
      monitoring: monitoringOff,
      operator: { leaderElection: { enabled: false } },
      expect: ['Role', 'RoleBinding'],
      absent: ['ClusterRole/operator', 'ClusterRoleBinding', 'Role/leader-election', 'PrometheusRule'],
    },
  ];

  it.each(matrix)('$name: renders and applies with a server-side dry run', async (c) => {
    const release = uniqueName('tpl');
    const values = {
      watch: c.watch(watched.map((w) => w.name)),
      monitoring: c.monitoring,
      ...(c.operator ? { operator: c.operator } : {}),
    };
    const text = await template(release, releaseNs.name, values);
    const objects = kinds(text);
    const names = objects.map((o) => `${o.kind}/${o.metadata.name}`);

    expect(names).toContain('CustomResourceDefinition/mcpservers.portcullis.dev');
    expect(names).toContain('CustomResourceDefinition/mcppolicies.portcullis.dev');
    expect(names).toContain(`Deployment/${release}-portcullis`);
    for (const kind of c.expect)
      expect(
        objects.some((o) => o.kind === kind),
        kind,
      ).toBe(true);
    for (const pattern of c.absent) {
      const [kind, part] = pattern.split('/');
      const hit = objects.some(
        (o) => o.kind === kind && (part === undefined || o.metadata.name.includes(part)),
      );
      expect(hit, `${pattern} should not be rendered`).toBe(false);
    }
    if (values.watch.mode === 'namespaces') {
      const roleNamespaces = objects
        .filter((o) => o.kind === 'Role' && o.metadata.name.endsWith('-operator'))
        .map((o) => o.metadata.namespace);
      expect(roleNamespaces.sort()).toEqual(watched.map((w) => w.name).sort());
    }

    // --force-conflicts: the CRDs may already be installed by a helm release (field manager helm).
    const out = await kubectl(
      ['apply', '--server-side', '--force-conflicts', '--dry-run=server', '-f', '-'],
      text,
    );
    // One line per object ("<kind>/<name> serverside-applied (server dry run)").
    expect(out.split('\n').filter((l) => l.includes('(server dry run)'))).toHaveLength(objects.length);
  });

  it('embeds the promtool-tested rules file in the PrometheusRule and each dashboard in a labelled ConfigMap', async () => {
    const objects = kinds(
      await template(uniqueName('emb'), releaseNs.name, {
        monitoring: {
          ...monitoringOn,
          dashboards: { enabled: true, label: 'grafana_dashboard', labelValue: '1' },
        },
      }),
    );
    const rule = objects.find((o) => o.kind === 'PrometheusRule');
    const rulesFile = parse(await readFile(join(CHART, 'rules', 'portcullis-alerts.yaml'), 'utf8'));
    expect(rule?.spec).toEqual(rulesFile);
    const dashboards = objects.filter(
      (o) => o.kind === 'ConfigMap' && o.metadata.labels?.grafana_dashboard === '1',
    );
    expect(dashboards.map((d) => Object.keys(d.data ?? {})[0]).sort()).toEqual([
      'portcullis-mcp-overview.json',
      'portcullis-operator.json',
      'portcullis-security.json',
    ]);
    for (const d of dashboards) {
      const [file, json] = Object.entries(d.data ?? {})[0] ?? [];
      const original = await readFile(
        join(CHART, 'dashboards', (file ?? '').replace('portcullis-', '')),
        'utf8',
      );
      expect(JSON.parse(json ?? ''), file).toEqual(JSON.parse(original));
    }
  });

  it('refuses values the schema forbids, with the path of the fault', async () => {
    const cases: [Record<string, unknown>, RegExp][] = [
      [{ watch: { mode: 'namespaces', namespaces: [] } }, /watch\/namespaces/],
      [{ watch: { mode: 'everywhere' } }, /watch\/mode/],
      [{ config: { sidecar: { port: 0 } } }, /config\/sidecar\/port/],
      [{ config: { sidecar: { port: 9090 } } }, /config\.sidecar\.adminPort: must differ/],
      [{ config: { sidecar: { port: 7000, adminPort: 7000 } } }, /config\.sidecar\.adminPort: must differ/],
      [{ config: { audit: { sinks: [{ type: 'carrier-pigeon' }] } } }, /config\/audit\/sinks/],
      [{ config: { unknownSetting: true } }, /config/],
      [{ runAsUser: 0 }, /runAsUser/],
      [
        { config: { sidecar: { resources: { limits: { memory: 'lots' } } } } },
        /config\/sidecar\/resources\/limits\/memory/,
      ],
    ];
    for (const [values, fault] of cases) {
      await expect(
        template(uniqueName('bad'), releaseNs.name, values),
        JSON.stringify(values),
      ).rejects.toThrow(fault);
    }
  });
});
