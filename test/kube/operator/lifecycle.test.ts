import { afterEach, describe, expect, it } from 'vitest';
import { eventually, kubectl, kubectlJson } from '../../support/kube.ts';
import {
  applyManifest,
  exists,
  hostedServer,
  type OperatorProcess,
  serverReady,
  setUpNamespace,
  spawnOperator,
} from '../../support/operator.ts';

// The operator as a process, the way a pod runs it: killed mid-reconcile it converges after a
// restart; two replicas elect one leader and the other takes over when the leader dies; SIGTERM
// hands the lease over.

const processes: OperatorProcess[] = [];

async function spawn(identity: string, extra: string[] = []): Promise<OperatorProcess> {
  const p = await spawnOperator(ns.name, identity, extra);
  processes.push(p);
  return p;
}

interface Lease {
  spec: { holderIdentity?: string; leaseTransitions?: number };
}

const lease = () =>
  kubectlJson<Lease>(['-n', ns.name, 'get', 'lease/portcullis-operator']).catch(() => undefined);

const ns = setUpNamespace('op-lifecycle', { operator: false });

afterEach(async () => {
  await Promise.all(processes.splice(0).map((p) => p.kill('SIGKILL')));
});

describe('operator lifecycle', () => {
  it('killed mid-reconcile and started again, it converges', async () => {
    const names = Array.from({ length: 12 }, (_, i) => `batch-${i}`);
    for (const name of names) await applyManifest(ns.name, hostedServer(name, { batch: 'kill' }));
    const first = await spawn('op-a');
    // Kill as soon as the first child appears: the rest is half done.
    await eventually('first child', async () =>
      (await exists(ns.name, 'serviceaccount/batch-0')) ? true : undefined,
    );
    await first.kill('SIGKILL');
    await spawn('op-b', ['--lease-duration', '3']);
    for (const name of names) await serverReady(ns.name, name, 120_000);
    const deployments = await kubectlJson<{ items: { metadata: { name: string } }[] }>([
      '-n',
      ns.name,
      'get',
      'deployments',
      '-l',
      'app.kubernetes.io/managed-by=portcullis',
    ]);
    expect(deployments.items.map((d) => d.metadata.name).sort()).toEqual([...names].sort());
    await kubectl(['-n', ns.name, 'delete', 'mcpservers', '-l', 'batch=kill']);
  }, 240_000);

  it('two replicas elect one leader; the other takes over when it dies', async () => {
    const a = await spawn('replica-a', ['--lease-duration', '4']);
    const b = await spawn('replica-b', ['--lease-duration', '4']);
    const leader = await eventually('a leader', async () => {
      const holder = (await lease())?.spec.holderIdentity;
      return holder === 'replica-a' || holder === 'replica-b' ? holder : undefined;
    });
    await applyManifest(ns.name, hostedServer('led-1'));
    await serverReady(ns.name, 'led-1');
    // The standby does not lead while the leader lives.
    expect((await lease())?.spec.holderIdentity).toBe(leader);

    const [dying, survivor] = leader === 'replica-a' ? [a, 'replica-b'] : [b, 'replica-a'];
    await dying.kill('SIGKILL');
    await eventually('the survivor takes the lease', async () =>
      (await lease())?.spec.holderIdentity === survivor ? true : undefined,
    );
    await applyManifest(ns.name, hostedServer('led-2'));
    await serverReady(ns.name, 'led-2');
  }, 180_000);

  it('on SIGTERM the leader finishes, releases the lease and exits 0', async () => {
    const p = await spawn('graceful', ['--lease-duration', '30']);
    await eventually('graceful leads', async () =>
      (await lease())?.spec.holderIdentity === 'graceful' ? true : undefined,
    );
    await applyManifest(ns.name, hostedServer('graceful-1'));
    await serverReady(ns.name, 'graceful-1');
    expect((await p.kill('SIGTERM')).code).toBe(0);
    expect((await lease())?.spec.holderIdentity).toBe('');
  });
});
