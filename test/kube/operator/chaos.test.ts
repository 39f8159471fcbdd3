import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KubeClient } from '../../../operator/src/kube/client.ts';
import { loadConnection } from '../../../operator/src/kube/connection.ts';
import type { KubeObject } from '../../../operator/src/kube/object.ts';
import { Resources } from '../../../operator/src/kube/resources.ts';
import { CONFIG_FILE } from '../../../operator/src/render/layout.ts';
import { type ControlPlane, runKubectl, startControlPlane } from '../../cluster/control-plane.ts';
import { eventually } from '../../support/kube.ts';
import { hostedServer, type OperatorProcess, policyManifest, spawnOperator } from '../../support/operator.ts';

// Chaos on a control plane of its own (restarting the shared one would break the other test files):
// two operator replicas reconcile a batch of servers while the leader is killed mid-reconcile, the
// API server restarts on the same etcd (every watch breaks, and the quiet ones resume from a
// compacted revision and must list again), servers and the policy change meanwhile,
// and the new leader is killed again. A sampler lists the ConfigMaps all along: no version of any
// of them may ever lack the policy. Afterwards every server converges to its latest spec and policy.

const ROOT = new URL('../../../', import.meta.url).pathname;
const NS = 'chaos';
const POLICY = 'everyone';
const NAMES = Array.from({ length: 10 }, (_, i) => `chaos-${i}`);

let plane: ControlPlane;
let client: KubeClient;
const processes = new Map<string, OperatorProcess>();
const k = (args: string[], input?: string) =>
  runKubectl(join(plane.binDir, 'kubectl'), plane.kubeconfig, args, input);
const apply = (manifest: string) => k(['-n', NS, 'apply', '-f', '-'], manifest);

async function spawn(identity: string): Promise<void> {
  // A lease that outlives the API server's restart (renewal gives up after two thirds of it).
  processes.set(identity, await spawnOperator(NS, identity, ['--lease-duration', '15'], plane.kubeconfig));
}

async function leader(): Promise<string> {
  return eventually('a leader', async () => {
    const lease = await client.get<KubeObject & { spec: { holderIdentity?: string } }>(
      Resources.Lease,
      NS,
      'portcullis-operator',
    );
    const holder = lease?.spec.holderIdentity;
    const child = holder ? processes.get(holder)?.process : undefined;
    // A killed holder keeps the lease until it expires; wait for a live one.
    return child && child.exitCode === null && child.signalCode === null ? holder : undefined;
  });
}

async function killLeader(): Promise<string> {
  const id = await leader();
  await processes.get(id)?.kill('SIGKILL');
  return id;
}

type ConfigMap = KubeObject & { data?: Record<string, string> };

// The sidecar configurations only: each server's `<server>-pins` ConfigMap is its trust store.
const renderedConfigMaps = async () =>
  (
    await client.list<ConfigMap>(Resources.ConfigMap, NS, {
      labelSelector: 'app.kubernetes.io/managed-by=portcullis',
    })
  ).items.filter((cm) => !cm.metadata?.name?.endsWith('-pins'));

/** The rules of our policy in a rendered sidecar configuration. */
function policyRules(cm: ConfigMap): { policy?: string; tools?: string[] }[] {
  const config = JSON.parse(cm.data?.[CONFIG_FILE] ?? '{}') as {
    authorization?: { rules?: { policy?: string; tools?: string[] }[] };
  };
  return (config.authorization?.rules ?? []).filter((r) => r.policy === `${NS}/${POLICY}`);
}

/** Lists the rendered ConfigMaps over and over; records every version that lacks the policy. */
class Sampler {
  samples = 0;
  unreachable = 0;
  readonly versions = new Set<string>();
  readonly missing: string[] = [];
  #running = true;
  #loop: Promise<void> | undefined;

  start(): void {
    this.#loop = this.#run();
  }

  async stop(): Promise<void> {
    this.#running = false;
    await this.#loop;
  }

  async #run(): Promise<void> {
    while (this.#running) {
      try {
        for (const cm of await renderedConfigMaps()) {
          const version = `${cm.metadata.name}@${cm.metadata.resourceVersion}`;
          this.versions.add(version);
          if (policyRules(cm).length === 0) this.missing.push(version);
        }
        this.samples += 1;
      } catch {
        // The API server is down: nothing can be written either.
        this.unreachable += 1;
      }
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}

const SERVICE_ACCOUNTS = `/api/v1/namespaces/${NS}/serviceaccounts?limit=1`;

async function currentRevision(): Promise<string> {
  return (
    JSON.parse(await k(['get', '--raw', SERVICE_ACCOUNTS])) as { metadata: { resourceVersion: string } }
  ).metadata.resourceVersion;
}

/** Waits until etcd no longer serves `revision` (compacted): a watch resuming before it gets 410. */
function compactedPast(revision: string): Promise<true> {
  return eventually(`etcd compacted past ${revision}`, async () => {
    try {
      await k(['get', '--raw', `${SERVICE_ACCOUNTS}&resourceVersion=${revision}&resourceVersionMatch=Exact`]);
      return undefined;
    } catch (err) {
      return /too old|Expired/.test(String(err)) ? true : undefined;
    }
  });
}

/** Informers that listed more than once in one replica's log. */
async function relistedInformers(logPath: string): Promise<string[]> {
  const lists = new Map<string, number>();
  for (const line of (await readFile(logPath, 'utf8')).split('\n')) {
    if (!line.includes('"msg":"listed"')) continue;
    const { informer } = JSON.parse(line) as { informer: string };
    lists.set(informer, (lists.get(informer) ?? 0) + 1);
  }
  return [...lists].filter(([, n]) => n > 1).map(([name]) => name);
}

beforeAll(async () => {
  // Watches straight from etcd (no watch cache, hence no bookmarks) and compaction every 5 s: after
  // the restart, an informer whose resource was quiet for a while resumes from a compacted revision,
  // gets 410 Gone and lists again, as after a long outage on a busy cluster.
  plane = await startControlPlane({
    apiServerArgs: ['--etcd-compaction-interval=5s', '--watch-cache=false'],
  });
  client = new KubeClient(await loadConnection(plane.kubeconfig));
  await k(['apply', '--server-side', '-f', join(ROOT, 'crds')]);
  await eventually('CRDs established', async () => {
    await k(['wait', '--for=condition=Established', '--timeout=30s', 'crd/mcpservers.portcullis.dev']);
    return true;
  });
  await k(['create', 'namespace', NS]);
}, 300_000);

afterAll(async () => {
  await Promise.all([...processes.values()].map((p) => p.kill('SIGKILL')));
  await plane?.stop();
});

interface ServerState {
  metadata: { name: string; generation: number };
  status?: { observedGeneration?: number; conditions?: { type: string; status: string }[] };
}

describe('chaos', () => {
  it('every server converges and no ConfigMap ever lacks the policy', async () => {
    await apply(policyManifest(POLICY, { app: 'chaos' }, ['echo']));
    for (const name of NAMES) await apply(hostedServer(name, { app: 'chaos' }));
    const sampler = new Sampler();
    sampler.start();
    try {
      await spawn('op-a');
      await spawn('op-b');
      // The leader dies as soon as it has written its first ConfigMap: the rest is half done.
      await eventually('a first ConfigMap', async () => (sampler.versions.size > 0 ? true : undefined));
      const firstKilled = await killLeader();

      // Meanwhile every server and the policy change, so the next leader has work in flight...
      for (const name of NAMES) {
        const changed = JSON.parse(hostedServer(name, { app: 'chaos' })) as { spec: { hosted: object } };
        Object.assign(changed.spec.hosted, { args: ['--generation', '2'] });
        await apply(JSON.stringify(changed));
      }
      await apply(policyManifest(POLICY, { app: 'chaos' }, ['echo', 'add']));
      // The next leader is at work, and etcd has compacted past what its quiet informers last saw ...
      await leader();
      await eventually('the new leader at work', async () =>
        (await renderedConfigMaps()).some((cm) => policyRules(cm).some((r) => r.tools?.includes('add')))
          ? true
          : undefined,
      );
      await compactedPast(await currentRevision());
      // ... when the API server goes away and comes back: every watch breaks.
      await plane.restartApiServer();
      await spawn('op-c');
      // And whoever leads now dies mid-reconcile too.
      const secondKilled = await killLeader();
      expect(secondKilled).not.toBe(firstKilled);
      await spawn('op-d');

      for (const name of NAMES) {
        await eventually(
          `${name} Ready at its latest generation`,
          async () => {
            const s = JSON.parse(
              await k(['-n', NS, 'get', `mcpserver/${name}`, '-o', 'json']),
            ) as ServerState;
            const ready = s.status?.conditions?.find((c) => c.type === 'Ready')?.status === 'True';
            return ready &&
              s.status?.observedGeneration === s.metadata.generation &&
              s.metadata.generation >= 2
              ? true
              : undefined;
          },
          { timeoutMs: 180_000 },
        );
      }
      // Every ConfigMap holds the policy's latest rules.
      await eventually('the latest policy everywhere', async () => {
        const latest = (await renderedConfigMaps()).filter((cm) =>
          policyRules(cm).some((r) => r.tools?.includes('add')),
        );
        return latest.length === NAMES.length ? true : undefined;
      });
    } finally {
      await sampler.stop();
    }
    expect(sampler.missing).toEqual([]);
    // The sampler did see the chaos: every ConfigMap, and an API server that was away for a while.
    expect(new Set([...sampler.versions].map((v) => v.split('@')[0])).size).toBe(NAMES.length);
    expect(sampler.unreachable).toBeGreaterThan(0);
    // An informer of the leader across the restart lost its place in the watch and listed again.
    const relisted = await Promise.all([...processes.values()].map((p) => relistedInformers(p.logPath)));
    expect(relisted.flat()).not.toEqual([]);
  }, 420_000);
});
