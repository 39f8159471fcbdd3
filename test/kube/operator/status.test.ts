import { describe, expect, it } from 'vitest';
import { eventually, kubectl, kubectlJson } from '../../support/kube.ts';
import {
  applyManifest,
  condition,
  getJson,
  hostedServer,
  type ServerView,
  serverReady,
  setUpNamespace,
} from '../../support/operator.ts';

// Status that tells the truth, on the real control plane: a child the API server refuses reaches
// status and an Event and is retried with backoff; pods that cannot be scheduled (the real
// scheduler), that crash or miss a Secret (the kubelet's container statuses, written here as kwok's
// kubelet stand-in would), or that are lost for good (a real ResourceQuota) read as what they are.

const ns = setUpNamespace('op-status');

function server(name: string, hosted: Record<string, unknown>): string {
  const base = JSON.parse(hostedServer(name)) as { spec: { hosted: Record<string, unknown> } };
  base.spec.hosted = { ...base.spec.hosted, ...hosted };
  return JSON.stringify(base);
}

/** Waits until the server's status satisfies `check`; returns it. */
function statusOf(name: string, what: string, check: (s: ServerView) => boolean): Promise<ServerView> {
  return eventually(`${name}: ${what}`, async () => {
    const s = await getJson<ServerView>(ns.name, `mcpserver/${name}`);
    return s.status?.observedGeneration === s.metadata.generation && check(s) ? s : undefined;
  });
}

interface EventView {
  reason: string;
  note: string;
  type: string;
  regarding: { name: string };
}

async function eventsOf(name: string): Promise<EventView[]> {
  const list = await kubectlJson<{ items: EventView[] }>([
    '-n',
    ns.name,
    'get',
    'events.events.k8s.io',
    '--field-selector',
    `regarding.name=${name},regarding.kind=McpServer`,
  ]);
  return list.items;
}

async function podsOf(name: string): Promise<string[]> {
  const out = await kubectl([
    '-n',
    ns.name,
    'get',
    'pods',
    '-l',
    `app.kubernetes.io/instance=${name}`,
    '-o',
    'jsonpath={.items[*].metadata.name}',
  ]);
  return out.split(' ').filter(Boolean);
}

/** What the kubelet writes for a container that cannot run; kwok plays the kubelet and writes only happy states. */
async function failContainer(pod: string, reason: string, message: string): Promise<void> {
  const now = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
  const status = {
    status: {
      conditions: [
        { type: 'Ready', status: 'False', reason: 'ContainersNotReady', lastTransitionTime: now },
        { type: 'ContainersReady', status: 'False', reason: 'ContainersNotReady', lastTransitionTime: now },
      ],
      containerStatuses: [
        {
          name: 'mcp-server',
          image: 'mcp/everything:latest',
          imageID: '',
          ready: false,
          restartCount: 4,
          state: { waiting: { reason, message } },
          lastState: { terminated: { exitCode: 1, reason: 'Error', startedAt: now, finishedAt: now } },
        },
        {
          name: 'portcullis-sidecar',
          image: 'portcullis/sidecar:test',
          imageID: '',
          ready: true,
          restartCount: 0,
          state: { running: { startedAt: now } },
        },
      ],
    },
  };
  await kubectl([
    '-n',
    ns.name,
    'patch',
    'pod',
    pod,
    '--subresource=status',
    '--type=strategic',
    '-p',
    JSON.stringify(status),
  ]);
}

describe('McpServer status', () => {
  it('a child the API server refuses reaches status and an Event, and is retried with backoff', async () => {
    // The CRD passes affinity through; server-side apply cannot convert this one and answers 500.
    await applyManifest(ns.name, server('refused', { affinity: { nodeAffinity: 'lots' } }));
    const s = await statusOf('refused', 'Failed', (x) => x.status?.phase === 'Failed');
    const ready = condition(s, 'Ready');
    expect(ready?.status).toBe('False');
    expect(ready?.reason).toBe('ApplyFailed');
    expect(ready?.message).toContain('Deployment refused');
    expect(ready?.message).toContain('nodeAffinity: expected map');
    expect(condition(s, 'Degraded')).toMatchObject({ status: 'True', reason: 'ApplyFailed' });
    const events = await eventually('an ApplyFailed event', async () => {
      const list = (await eventsOf('refused')).filter((e) => e.reason === 'ApplyFailed');
      return list.length > 0 ? list : undefined;
    });
    expect(events[0]?.type).toBe('Warning');
    expect(events[0]?.note).toContain('nodeAffinity: expected map');
    // Retried through the rate limiter (each failure counted, so each wait longer), not forgotten.
    const key = `${ns.name}/refused`;
    await eventually('retried with backoff', async () =>
      ns.op.operator.serverController.queue.failures(key) >= 3 ? true : undefined,
    );
    // The same refusal is one Event, not one per retry.
    expect((await eventsOf('refused')).filter((e) => e.reason === 'ApplyFailed')).toHaveLength(1);

    // Fixed, it recovers: the backoff is forgotten and the server becomes Ready.
    await applyManifest(ns.name, server('refused', { affinity: {} }));
    await serverReady(ns.name, 'refused');
  });

  it('pods that cannot be scheduled: Failed, in the words of the scheduler', async () => {
    await applyManifest(ns.name, server('nowhere', { nodeSelector: { 'portcullis.dev/no-such-node': 'x' } }));
    const s = await statusOf('nowhere', 'Failed', (x) => x.status?.phase === 'Failed');
    expect(condition(s, 'Ready')).toMatchObject({ status: 'False', reason: 'Unschedulable' });
    expect(condition(s, 'Ready')?.message).toMatch(/0 of 1 pods available: 0\/1 nodes are available/);
    expect(condition(s, 'Degraded')).toMatchObject({ status: 'True', reason: 'Unschedulable' });
    expect(condition(s, 'Degraded')?.message).not.toContain('Nothing is wrong');
  });

  it.each([
    {
      reason: 'CrashLoopBackOff',
      message: 'back-off 40s restarting failed container=mcp-server',
      text: 'container mcp-server CrashLoopBackOff: back-off 40s restarting failed container=mcp-server (last exit: Error, code 1)',
    },
    {
      reason: 'CreateContainerConfigError',
      message: 'secret "upstream-credentials" not found',
      text: 'container mcp-server CreateContainerConfigError: secret "upstream-credentials" not found',
    },
    {
      reason: 'ImagePullBackOff',
      message: 'Back-off pulling image "mcp/everything:latest"',
      text: 'container mcp-server ImagePullBackOff: Back-off pulling image',
    },
  ])(
    'a Ready server whose only pod turns $reason: Failed with the cause, Ready again when it recovers',
    async ({ reason, message, text }) => {
      const name = `down-${reason.toLowerCase()}`;
      await applyManifest(ns.name, hostedServer(name));
      await serverReady(ns.name, name);
      const [pod] = await podsOf(name);
      await failContainer(pod as string, reason, message);
      const s = await statusOf(name, 'Failed', (x) => x.status?.phase === 'Failed');
      expect(condition(s, 'Ready')).toMatchObject({ status: 'False', reason });
      expect(condition(s, 'Ready')?.message).toContain(text);
      expect(condition(s, 'Degraded')).toMatchObject({ status: 'True', reason });
      expect(condition(s, 'Degraded')?.message).toContain(`0 of 1 pods available: ${text}`);

      // The pod goes away (as after a fix): its replacement turns Ready and so does the server.
      await kubectl(['-n', ns.name, 'delete', 'pod', pod as string, '--wait=false']);
      const back = await serverReady(ns.name, name);
      expect(back.status?.phase).toBe('Ready');
      expect(condition(back, 'Degraded')).toMatchObject({ status: 'False', message: 'Nothing is wrong.' });
    },
  );

  it('a server that lost every pod for good reads Failed, with the reason its pods are not recreated', async () => {
    await applyManifest(ns.name, hostedServer('lost'));
    await serverReady(ns.name, 'lost');
    // A real quota forbids new pods in the namespace; the one pod goes and cannot come back.
    await kubectl(
      ['-n', ns.name, 'apply', '-f', '-'],
      JSON.stringify({
        apiVersion: 'v1',
        kind: 'ResourceQuota',
        metadata: { name: 'no-pods' },
        spec: { hard: { pods: '0' } },
      }),
    );
    try {
      await eventually('quota in force', async () => {
        const q = await kubectlJson<{ status?: { hard?: { pods?: string } } }>([
          '-n',
          ns.name,
          'get',
          'resourcequota/no-pods',
        ]);
        return q.status?.hard?.pods === '0' ? true : undefined;
      });
      for (const pod of await podsOf('lost')) await kubectl(['-n', ns.name, 'delete', 'pod', pod]);
      const s = await statusOf('lost', 'Failed', (x) => x.status?.phase === 'Failed');
      expect(condition(s, 'Ready')).toMatchObject({ status: 'False', reason: 'ReplicasUnavailable' });
      expect(condition(s, 'Ready')?.message).toContain('0 of 1 pods available; pods were lost');
      expect(condition(s, 'Degraded')?.status).toBe('True');
      expect(condition(s, 'Degraded')?.message).toContain('exceeded quota');
    } finally {
      await kubectl(['-n', ns.name, 'delete', 'resourcequota', 'no-pods']);
    }
    await serverReady(ns.name, 'lost', 120_000);
  }, 180_000);
});
