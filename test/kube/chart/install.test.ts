import { createWriteStream } from 'node:fs';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { parseOptions } from '../../../operator/src/manager/options.ts';
import { type RunningOperator, runOperator } from '../../../operator/src/manager/run.ts';
import { createNamespace, eventually, kubectl, kubectlJson } from '../../support/kube.ts';
import { CHART, canI, helm, uniqueName, valuesFile } from './chart.ts';

// `helm install` into the control plane: the operator Deployment turns Ready (kwok runs no image),
// the CRDs are served, and the operator run with exactly the chart's ServiceAccount, flags and
// defaults file reconciles the examples to Ready: the chart's RBAC is enough, and no more than asked.

const ROOT = new URL('../../../', import.meta.url).pathname;

interface Deployment {
  status?: { readyReplicas?: number; availableReplicas?: number };
  spec: { template: { spec: { containers: { args: string[] }[] } } };
}

/** A kubeconfig that authenticates as the ServiceAccount, with a token from the TokenRequest API. */
async function kubeconfigFor(namespace: string, serviceAccount: string, dir: string): Promise<string> {
  const token = await kubectl(['create', 'token', serviceAccount, '-n', namespace, '--duration=1h']);
  const admin = parse(await kubectl(['config', 'view', '--raw', '--minify'])) as {
    clusters: { cluster: Record<string, string> }[];
  };
  const cluster = admin.clusters[0]?.cluster ?? {};
  const file = join(dir, `${serviceAccount}.kubeconfig`);
  await writeFile(
    file,
    stringify({
      apiVersion: 'v1',
      kind: 'Config',
      clusters: [{ name: 'test', cluster }],
      users: [{ name: serviceAccount, user: { token } }],
      contexts: [{ name: 'sa', context: { cluster: 'test', user: serviceAccount } }],
      'current-context': 'sa',
    }),
  );
  return file;
}

describe.each([{ mode: 'cluster' as const }, { mode: 'namespaces' as const }])(
  'helm install in $mode mode',
  ({ mode }) => {
    const release = uniqueName(`pc-${mode === 'cluster' ? 'c' : 'n'}`);
    let releaseNs: Awaited<ReturnType<typeof createNamespace>>;
    let watched: Awaited<ReturnType<typeof createNamespace>>;
    let other: Awaited<ReturnType<typeof createNamespace>>;
    let operator: RunningOperator | undefined;
    const sa = () => `system:serviceaccount:${releaseNs.name}:${release}-portcullis`;

    beforeAll(async () => {
      releaseNs = await createNamespace('chart-rel');
      watched = await createNamespace('chart-team');
      other = await createNamespace('chart-other');
      const values = await valuesFile({
        watch: mode === 'cluster' ? { mode } : { mode, namespaces: [watched.name] },
        sidecar: { image: { repository: 'portcullis/sidecar', tag: 'test' } },
      });
      await helm([
        'install',
        release,
        CHART,
        '--namespace',
        releaseNs.name,
        '-f',
        values,
        '--wait',
        '--timeout',
        '180s',
        // Other test files on this shared cluster apply the same CRDs with kubectl; helm's server-side
        // apply of CRDs conflicts with that manager even for identical content, so it takes them over.
        '--force-conflicts',
      ]);
    });
    afterAll(async () => {
      await operator?.stop();
      await helm(['uninstall', release, '--namespace', releaseNs.name, '--wait']).catch(() => undefined);
      for (const ns of [releaseNs, watched, other]) await ns?.remove();
    });

    it('gives an operator Deployment that becomes Ready', async () => {
      const d = await eventually('operator Ready', async () => {
        const dep = await kubectlJson<Deployment>([
          'get',
          'deployment',
          `${release}-portcullis`,
          '-n',
          releaseNs.name,
        ]);
        return (dep.status?.readyReplicas ?? 0) >= 1 ? dep : undefined;
      });
      expect(d.status?.availableReplicas).toBe(1);
    });

    it('serves the CRDs', async () => {
      for (const crd of ['mcpservers.portcullis.dev', 'mcppolicies.portcullis.dev']) {
        const established = await kubectl([
          'get',
          'crd',
          crd,
          '-o',
          'jsonpath={.status.conditions[?(@.type=="Established")].status}',
        ]);
        expect(established, crd).toBe('True');
      }
      expect(await kubectl(['get', 'mcps', '-n', watched.name, '-o', 'name'])).toBe('');
      expect(await kubectl(['get', 'mcppolicies', '-n', watched.name, '-o', 'name'])).toBe('');
    });

    it("grants the operator's ServiceAccount what it uses and withholds the rest", async () => {
      const as = { user: sa() };
      const yes: [string, string, string][] = [
        ['watch', 'mcpservers.portcullis.dev', watched.name],
        ['patch', 'mcpservers.portcullis.dev/status', watched.name],
        ['patch', 'mcppolicies.portcullis.dev/status', watched.name],
        ['create', 'deployments.apps', watched.name],
        // Looks a child's name up before creating it, so it never takes over a stranger's object.
        ['get', 'configmaps', watched.name],
        ['get', 'serviceaccounts', watched.name],
        ['update', 'deployments.apps', watched.name],
        ['delete', 'networkpolicies.networking.k8s.io', watched.name],
        ['create', 'events.events.k8s.io', watched.name],
        ['create', 'leases.coordination.k8s.io', releaseNs.name],
        ['list', 'pods', watched.name],
        ['watch', 'pods', watched.name],
      ];
      const no: [string, string, string][] = [
        ['get', 'secrets', watched.name],
        ['get', 'mcpservers.portcullis.dev', watched.name],
        ['create', 'pods', watched.name],
        ['patch', 'pods', watched.name],
        ['get', 'pods/log', watched.name],
        ['list', 'events.events.k8s.io', watched.name],
        ['patch', 'mcpservers.portcullis.dev', watched.name],
        ['update', 'mcpservers.portcullis.dev/status', watched.name],
        ['create', 'roles.rbac.authorization.k8s.io', watched.name],
        ['update', 'leases.coordination.k8s.io', watched.name],
        ['list', 'customresourcedefinitions.apiextensions.k8s.io', ''],
      ];
      if (mode === 'namespaces') {
        no.push(
          ['list', 'mcpservers.portcullis.dev', other.name],
          ['create', 'deployments.apps', other.name],
        );
      } else {
        yes.push(['list', 'mcpservers.portcullis.dev', other.name]);
      }
      for (const [verb, resource, ns] of yes)
        expect(await canI(as, verb, resource, ns), `${verb} ${resource}`).toBe(true);
      for (const [verb, resource, ns] of no)
        expect(await canI(as, verb, resource, ns), `${verb} ${resource}`).toBe(false);
    });

    it('runs the operator with only those rights: the examples reconcile to Ready', async () => {
      const work = await mkdtemp(join(tmpdir(), 'portcullis-chart-op-'));
      const kubeconfig = await kubeconfigFor(releaseNs.name, `${release}-portcullis`, work);
      const defaultsYaml = await kubectl([
        'get',
        'configmap',
        `${release}-portcullis-defaults`,
        '-n',
        releaseNs.name,
        '-o',
        'jsonpath={.data.defaults\\.yaml}',
      ]);
      const defaultsFile = join(work, 'defaults.yaml');
      await writeFile(defaultsFile, defaultsYaml);
      const dep = await kubectlJson<Deployment>([
        'get',
        'deployment',
        `${release}-portcullis`,
        '-n',
        releaseNs.name,
      ]);
      // The Deployment's own flags; only the file path and the health port differ out of the pod.
      const args = (dep.spec.template.spec.containers[0]?.args ?? []).map((a) =>
        a.startsWith('--defaults=')
          ? `--defaults=${defaultsFile}`
          : a.startsWith('--health-addr=')
            ? '--health-addr=127.0.0.1:0'
            : a,
      );
      // In cluster mode the test still confines the operator to its namespace: the control plane is
      // shared with other test files, whose McpServers another operator must not touch. The
      // ClusterRole's cluster-wide reach is checked with can-i above.
      const confine = mode === 'cluster' ? [`--namespaces=${watched.name}`] : [];
      const options = parseOptions(
        [...args, ...confine, `--kubeconfig=${kubeconfig}`, '--identity=chart-test'],
        {},
      );
      expect(options.defaults.sidecar.image).toBe('portcullis/sidecar:test');
      const logPath = join(work, 'operator.log');
      operator = await runOperator(options, { log: pino({ level: 'debug' }, createWriteStream(logPath)) });

      await kubectl(['apply', '-n', watched.name, '-f', join(ROOT, 'examples')]);
      const ready = await eventually(
        'example McpServer Ready',
        async () => {
          const s = await kubectlJson<{
            status?: { conditions?: { type: string; status: string }[]; policies?: string[] };
          }>(['get', 'mcpserver', 'everything', '-n', watched.name]);
          return s.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ? s : undefined;
        },
        { timeoutMs: 90_000 },
      ).catch(async (err: unknown) => {
        // The operator's log and the object's status say why; the bare timeout would not.
        const log = (await readFile(logPath, 'utf8')).split('\n').slice(-40).join('\n');
        const status = await kubectl(['get', 'mcpserver', 'everything', '-n', watched.name, '-o', 'yaml']);
        throw new Error(`${String(err)}\n--- McpServer\n${status}\n--- operator log (${logPath})\n${log}`);
      });
      expect(ready.status?.policies?.length).toBeGreaterThan(0);
      const lease = await kubectlJson<{ spec: { holderIdentity?: string } }>([
        'get',
        'lease',
        `${release}-portcullis`,
        '-n',
        releaseNs.name,
      ]);
      expect(lease.spec.holderIdentity).toBe('chart-test');
    });
  },
);
