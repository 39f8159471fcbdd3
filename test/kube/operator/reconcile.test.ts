import { describe, expect, it } from 'vitest';
import { eventually, KubectlError, kubectl, kubectlJson } from '../../support/kube.ts';
import {
  applyManifest,
  condition,
  exists,
  getJson,
  hostedServer,
  type ServerView,
  serverReady,
  setUpNamespace,
  startOperator,
} from '../../support/operator.ts';

// One operator (in-process, namespace-scoped) against the real control plane: the examples become
// running, Ready servers; drift is reverted; deletion garbage-collects; an unchanged resync writes
// nothing.

const EXAMPLES = new URL('../../../examples/', import.meta.url).pathname;
const CHILDREN = ['serviceaccount', 'configmap', 'deployment', 'service', 'networkpolicy'];

const ns = setUpNamespace('op-reconcile');

const writes = async () => {
  const metric = await ns.op.metrics.apiWrites.get();
  return metric.values.filter((v) => v.labels.resource !== 'leases').reduce((n, v) => n + v.value, 0);
};

const reconciles = async () => {
  const metric = await ns.op.metrics.reconciles.get();
  return metric.values.filter((v) => v.labels.kind === 'McpServer').reduce((n, v) => n + v.value, 0);
};

describe('McpServer reconcile', () => {
  it('applies the examples, renders every child and reports Ready with the in-cluster URL', async () => {
    await kubectl(['-n', ns.name, 'apply', '-f', EXAMPLES]);
    const server = await serverReady(ns.name, 'everything');
    expect(server.status?.url).toBe(`http://everything.${ns.name}.svc.cluster.local/mcp`);
    expect(server.status?.phase).toBe('Ready');
    expect(server.status?.policies).toEqual(['engineers-read', 'guardrails']);
    for (const kind of CHILDREN) {
      const child = await kubectlJson<{
        metadata: { ownerReferences?: { uid: string; controller?: boolean }[] };
      }>(['-n', ns.name, 'get', `${kind}/everything`]);
      expect(child.metadata.ownerReferences?.[0]).toMatchObject({
        uid: server.metadata.uid,
        controller: true,
      });
    }
    // replicas: 1, so no PodDisruptionBudget
    expect(await exists(ns.name, 'poddisruptionbudget/everything')).toBe(false);
    const table = await kubectl(['-n', ns.name, 'get', 'mcps']);
    expect(table.split('\n')[0]).toMatch(/NAME\s+TYPE\s+URL\s+POLICIES\s+READY\s+AGE/);
    expect(table).toContain(`http://everything.${ns.name}.svc.cluster.local/mcp`);
    // POLICIES is a plain list, not a JSON array.
    expect(table.split('\n')[1]).toMatch(/\/mcp\s+engineers-read, guardrails\s+True\s/);
    const policy = await getJson<ServerView & { status: { servers?: string[] } }>(
      ns.name,
      'mcppolicy/guardrails',
    );
    expect(condition(policy, 'Accepted')?.status).toBe('True');
    expect(policy.status.servers).toEqual(['everything']);
  });

  it('renders a PodDisruptionBudget when replicas > 1 and removes it when scaled back to 1', async () => {
    await applyManifest(ns.name, hostedServer('scaled', {}, 2));
    await serverReady(ns.name, 'scaled');
    expect(await exists(ns.name, 'poddisruptionbudget/scaled')).toBe(true);
    await applyManifest(ns.name, hostedServer('scaled', {}, 1));
    await eventually('PDB removed', async () =>
      (await exists(ns.name, 'poddisruptionbudget/scaled')) ? undefined : true,
    );
    await serverReady(ns.name, 'scaled');
  });

  it('reverts a hand edit of the Deployment', async () => {
    await serverReady(ns.name, 'everything');
    await kubectl(['-n', ns.name, 'scale', 'deployment/everything', '--replicas=3']);
    await kubectl(['-n', ns.name, 'set', 'image', 'deployment/everything', 'mcp-server=evil/image:1']);
    const deployment = await eventually('Deployment reverted', async () => {
      const d = await kubectlJson<{
        spec: { replicas: number; template: { spec: { containers: { name: string; image: string }[] } } };
      }>(['-n', ns.name, 'get', 'deployment/everything']);
      const image = d.spec.template.spec.containers.find((c) => c.name === 'mcp-server')?.image;
      return d.spec.replicas === 1 && image === 'mcp/everything:latest' ? d : undefined;
    });
    expect(deployment.spec.replicas).toBe(1);
  });

  it.each([
    {
      name: 'a container added',
      patch: [
        {
          op: 'add',
          path: '/spec/template/spec/containers/-',
          value: { name: 'miner', image: 'evil/miner:1' },
        },
      ],
    },
    {
      name: "the sidecar's token volume mounted into the MCP container",
      patch: [
        {
          op: 'add',
          path: '/spec/template/spec/containers/0/volumeMounts/-',
          value: { name: 'portcullis-token', mountPath: '/var/run/stolen', readOnly: true },
        },
      ],
    },
    {
      name: 'hostPID and an envFrom added',
      patch: [
        { op: 'add', path: '/spec/template/spec/hostPID', value: true },
        {
          op: 'add',
          path: '/spec/template/spec/containers/0/envFrom',
          value: [{ secretRef: { name: 'x' } }],
        },
      ],
    },
  ])('reverts an addition to the pod template: $name', async ({ patch }) => {
    await serverReady(ns.name, 'everything');
    type Template = {
      metadata: { generation: number };
      spec: { template: { spec: Record<string, unknown> & { containers: Record<string, unknown>[] } } };
    };
    const get = () => kubectlJson<Template>(['-n', ns.name, 'get', 'deployment/everything']);
    const before = await get();
    // The patch's own answer: the operator may revert it before a second read could see it.
    const patched = JSON.parse(
      await kubectl([
        '-n',
        ns.name,
        'patch',
        'deployment/everything',
        '--type=json',
        '-p',
        JSON.stringify(patch),
        '-o',
        'json',
      ]),
    ) as Template;
    expect(patched.spec.template.spec).not.toEqual(before.spec.template.spec);
    const after = await eventually('pod template restored', async () => {
      const d = await get();
      return d.metadata.generation > patched.metadata.generation ? d : undefined;
    });
    expect(after.spec.template.spec).toEqual(before.spec.template.spec);
    const events = await kubectlJson<{ items: { reason: string; note: string }[] }>([
      '-n',
      ns.name,
      'get',
      'events.events.k8s.io',
      '--field-selector',
      'regarding.name=everything,regarding.kind=McpServer,reason=DriftCorrected',
    ]);
    expect(events.items.map((e) => e.note).join('\n')).toContain('was added by another writer');
  });

  it('leaves a rollout restart alone', async () => {
    await serverReady(ns.name, 'everything');
    await kubectl(['-n', ns.name, 'rollout', 'restart', 'deployment/everything']);
    await serverReady(ns.name, 'everything');
    await eventually('queue idle', async () =>
      ns.op.operator.serverController.queue.length === 0 ? true : undefined,
    );
    const d = await kubectlJson<{
      spec: { template: { metadata: { annotations: Record<string, string> } } };
    }>(['-n', ns.name, 'get', 'deployment/everything']);
    expect(d.spec.template.metadata.annotations['kubectl.kubernetes.io/restartedAt']).toBeDefined();
  });

  it('recreates a deleted Service', async () => {
    const before = await kubectlJson<{ metadata: { uid: string } }>([
      '-n',
      ns.name,
      'get',
      'service/everything',
    ]);
    await kubectl(['-n', ns.name, 'delete', 'service/everything']);
    const after = await eventually('Service recreated', async () => {
      const s = await kubectlJson<{ metadata: { uid: string } }>([
        '-n',
        ns.name,
        'get',
        'service/everything',
      ]).catch(() => undefined);
      return s && s.metadata.uid !== before.metadata.uid ? s : undefined;
    });
    expect(after.metadata.uid).not.toBe(before.metadata.uid);
  });

  it.each([
    {
      name: 'two sources',
      spec: { hosted: { image: 'x', port: 3000 }, external: {} },
      message: 'set exactly one of spec.hosted, spec.external, spec.compose',
    },
    { name: 'a bad port', spec: { hosted: { image: 'x', port: 70000 } }, message: 'spec.hosted.port' },
    {
      name: 'an unknown transport',
      spec: { hosted: { image: 'x', port: 3000, transport: 'carrier-pigeon' } },
      message: 'spec.hosted.transport',
    },
    {
      name: 'a memory limit that is no quantity',
      spec: { hosted: { image: 'x', port: 3000, resources: { limits: { memory: 'lots' } } } },
      message: 'spec.hosted.resources.limits.memory',
    },
  ])('the API server refuses an McpServer with $name', async ({ spec, message }) => {
    const manifest = JSON.stringify({
      apiVersion: 'portcullis.dev/v1alpha1',
      kind: 'McpServer',
      metadata: { name: 'invalid' },
      spec,
    });
    const err = await applyManifest(ns.name, manifest).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(KubectlError);
    expect(String((err as Error).message)).toContain(message);
  });

  it('a resync of the unchanged cluster makes zero writes', async () => {
    await serverReady(ns.name, 'everything');
    await serverReady(ns.name, 'scaled');
    // Let the events of earlier tests settle (rollouts finish, status written).
    await eventually('queue idle', async () =>
      ns.op.operator.serverController.queue.length === 0 ? true : undefined,
    );
    await new Promise((r) => setTimeout(r, 2000));
    const before = await writes();
    const reconciled = await reconciles();
    ns.op.operator.resync();
    await eventually('every server reconciled again', async () =>
      (await reconciles()) >= reconciled + 2 && ns.op.operator.serverController.queue.length === 0
        ? true
        : undefined,
    );
    expect(await writes()).toBe(before);
  });

  it('deleting an McpServer garbage-collects its children', async () => {
    await applyManifest(ns.name, hostedServer('doomed'));
    await serverReady(ns.name, 'doomed');
    await kubectl(['-n', ns.name, 'delete', 'mcpserver/doomed', '--wait=true']);
    await eventually(
      'children collected',
      async () => {
        for (const kind of CHILDREN) if (await exists(ns.name, `${kind}/doomed`)) return undefined;
        return true;
      },
      // The garbage collector of a busy control plane can take a while to get to them.
      { timeoutMs: 170_000 },
    );
  }, 180_000);

  it('serves /healthz, /readyz and the metrics', async () => {
    const base = `http://127.0.0.1:${ns.op.health.port}`;
    expect((await fetch(`${base}/healthz`)).status).toBe(200);
    expect((await fetch(`${base}/readyz`)).status).toBe(200);
    const leader = await fetch(`${base}/leaderz`);
    expect([leader.status, await leader.text()]).toEqual([200, 'leader\n']);
    const metrics = await (await fetch(`${base}/metrics`)).text();
    for (const name of [
      'portcullis_operator_reconciles_total',
      'portcullis_operator_reconcile_duration_seconds',
      'portcullis_operator_workqueue_depth',
      'portcullis_operator_mcpservers{phase="Ready"}',
      'portcullis_operator_api_writes_total',
    ]) {
      expect(metrics).toContain(name);
    }
    expect(metrics).toContain('portcullis_operator_leader 1');
  });

  it('tells a standby from the leader: /readyz 200 on both, /leaderz and the leader metric only on the leader', async () => {
    const standby = await startOperator(ns.name, 'op-standby');
    try {
      const base = `http://127.0.0.1:${standby.health.port}`;
      expect((await fetch(`${base}/readyz`)).status).toBe(200);
      const leader = await fetch(`${base}/leaderz`);
      expect([leader.status, await leader.text()]).toEqual([503, 'standby\n']);
      expect(await (await fetch(`${base}/metrics`)).text()).toContain('portcullis_operator_leader 0');
    } finally {
      await standby.stop();
    }
  });
});
