import { describe, expect, it } from 'vitest';
import { eventually, kubectl, kubectlJson } from '../../support/kube.ts';
import {
  applyManifest,
  condition,
  exists,
  getJson,
  hostedServer,
  type ServerView,
  serverReady,
  setUpNamespace,
} from '../../support/operator.ts';

// The operator never takes over an object it did not create: an McpServer whose children's names
// are held by a user's objects reports a Conflict naming the object and an Event, applies nothing,
// and deleting the McpServer leaves the user's objects in place (no owner reference, so the
// garbage collector has nothing to collect).

interface Plain {
  metadata: {
    uid: string;
    labels?: Record<string, string>;
    ownerReferences?: unknown[];
    managedFields?: { manager: string }[];
  };
  data?: Record<string, string>;
  automountServiceAccountToken?: boolean;
}

const get = (resource: string) =>
  kubectlJson<Plain>(['-n', ns.name, 'get', resource, '--show-managed-fields']);

function conflicted(name: string) {
  return eventually(`McpServer ${name} Conflict`, async () => {
    const s = await getJson<ServerView>(ns.name, `mcpserver/${name}`);
    return condition(s, 'Ready')?.reason === 'Conflict' ? s : undefined;
  });
}

async function eventReasons(name: string): Promise<{ reason: string; note: string }[]> {
  const list = await kubectlJson<{ items: { reason: string; note: string; regarding: { name: string } }[] }>([
    '-n',
    ns.name,
    'get',
    'events.events.k8s.io',
  ]);
  return list.items.filter((e) => e.regarding.name === name);
}

function untouched(object: Plain, before: Plain): void {
  expect(object.metadata.uid).toBe(before.metadata.uid);
  expect(object.metadata.ownerReferences).toBeUndefined();
  expect(object.metadata.labels).toEqual(before.metadata.labels);
  expect((object.metadata.managedFields ?? []).map((m) => m.manager)).not.toContain('portcullis-operator');
}

async function deleteServer(name: string): Promise<void> {
  await kubectl(['-n', ns.name, 'delete', `mcpserver/${name}`, '--wait=true']);
}

const ns = setUpNamespace('op-ownership');

describe('objects the operator did not create', () => {
  it("are neither adopted nor deleted: a user's ConfigMap and ServiceAccount named like the server", async () => {
    await kubectl([
      '-n',
      ns.name,
      'create',
      'configmap',
      'app-config',
      '--from-literal=settings.ini=debug=false',
    ]);
    await kubectl(['-n', ns.name, 'create', 'serviceaccount', 'app-config']);
    const cm = await get('configmap/app-config');
    const sa = await get('serviceaccount/app-config');

    await applyManifest(ns.name, hostedServer('app-config'));
    const server = await conflicted('app-config');
    const ready = condition(server, 'Ready');
    expect(ready?.status).toBe('False');
    expect(ready?.message).toMatch(
      /(ConfigMap|ServiceAccount) app-config already exists and was not created for this McpServer/,
    );
    expect(server.status?.phase).toBe('Failed');
    const events = await eventually('a Conflict event', async () => {
      const e = await eventReasons('app-config');
      return e.some((x) => x.reason === 'Conflict') ? e : undefined;
    });
    expect(events.find((x) => x.reason === 'Conflict')?.note).toContain('app-config already exists');

    untouched(await get('configmap/app-config'), cm);
    expect((await get('configmap/app-config')).data).toEqual({ 'settings.ini': 'debug=false' });
    untouched(await get('serviceaccount/app-config'), sa);
    // Nothing at all was applied: no pods that would run as, or mount, someone else's objects.
    expect(await exists(ns.name, 'deployment/app-config')).toBe(false);
    expect(await exists(ns.name, 'service/app-config')).toBe(false);

    await deleteServer('app-config');
    untouched(await get('configmap/app-config'), cm);
    untouched(await get('serviceaccount/app-config'), sa);
  });

  it("leave the namespace's default ServiceAccount alone for an McpServer named default", async () => {
    const sa = await eventually('default ServiceAccount', () =>
      get('serviceaccount/default').catch(() => undefined),
    );
    await applyManifest(ns.name, hostedServer('default'));
    const server = await conflicted('default');
    expect(condition(server, 'Ready')?.message).toContain('ServiceAccount default already exists');
    const after = await get('serviceaccount/default');
    untouched(after, sa);
    expect(after.automountServiceAccountToken).toBe(sa.automountServiceAccountToken);
    await deleteServer('default');
    untouched(await get('serviceaccount/default'), sa);
  });

  it('are used once the user removes theirs: the server then creates its own and becomes Ready', async () => {
    await kubectl(['-n', ns.name, 'create', 'configmap', 'later']);
    await applyManifest(ns.name, hostedServer('later'));
    await conflicted('later');
    await kubectl(['-n', ns.name, 'delete', 'configmap/later']);
    const server = await serverReady(ns.name, 'later', 100_000);
    const cm = await get('configmap/later');
    expect(cm.metadata.ownerReferences).toEqual([expect.objectContaining({ uid: server.metadata.uid })]);
  });
});
