import pino from 'pino';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { KubeClient } from '../../../operator/src/kube/client.ts';
import { loadConnection } from '../../../operator/src/kube/connection.ts';
import { Informer } from '../../../operator/src/kube/informer.ts';
import type { KubeObject } from '../../../operator/src/kube/object.ts';
import { Resources } from '../../../operator/src/kube/resources.ts';
import type { StoreEvent } from '../../../operator/src/kube/store.ts';
import { createNamespace, eventually, kubectl } from '../../support/kube.ts';

// The informer against the real API server: a paged initial list, then watch events into the
// cache, filtered by label selector, and a clean stop.

let ns: { name: string; remove: () => Promise<void> };
let client: KubeClient;

beforeAll(async () => {
  ns = await createNamespace('op-informer');
  client = new KubeClient(await loadConnection(inject('kubeconfig')));
});

afterAll(async () => {
  await ns?.remove();
  await client?.connection.close();
});

const configMap = (name: string, labels: Record<string, string>, value = '1') =>
  JSON.stringify({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, labels }, data: { value } });

describe('Informer', () => {
  it('lists in pages, then follows adds, updates and deletes of matching objects only', async () => {
    for (let i = 0; i < 5; i++)
      await kubectl(['-n', ns.name, 'apply', '-f', '-'], configMap(`pre-${i}`, { mine: 'yes' }));
    await kubectl(['-n', ns.name, 'apply', '-f', '-'], configMap('other', { mine: 'no' }));

    const informer = new Informer<KubeObject>({
      client,
      resource: Resources.ConfigMap,
      namespace: ns.name,
      labelSelector: 'mine=yes',
      pageSize: 2, // forces three pages
      log: pino({ level: 'silent' }),
    });
    const events: string[] = [];
    informer.on((e: StoreEvent<KubeObject>) => events.push(`${e.type} ${e.object.metadata.name}`));
    informer.start();
    await informer.synced;
    expect(informer.hasSynced()).toBe(true);
    expect(
      informer.store
        .list(ns.name)
        .map((o) => o.metadata.name)
        .sort(),
    ).toEqual(['pre-0', 'pre-1', 'pre-2', 'pre-3', 'pre-4']);
    expect(informer.store.get(ns.name, 'pre-0')?.kind).toBe('ConfigMap');

    await kubectl(['-n', ns.name, 'apply', '-f', '-'], configMap('late', { mine: 'yes' }));
    await kubectl(['-n', ns.name, 'apply', '-f', '-'], configMap('pre-1', { mine: 'yes' }, '2'));
    await kubectl(['-n', ns.name, 'delete', 'configmap/pre-2']);
    await kubectl(['-n', ns.name, 'apply', '-f', '-'], configMap('other', { mine: 'no' }, '3'));
    await eventually('watch events', async () => (events.includes('delete pre-2') ? true : undefined));
    expect(events).toContain('add late');
    expect(events).toContain('update pre-1');
    expect(events.some((e) => e.endsWith(' other'))).toBe(false);
    expect(informer.store.get(ns.name, 'pre-1')?.data).toEqual({ value: '2' });
    expect(informer.store.get(ns.name, 'pre-2')).toBeUndefined();

    await informer.stop();
    const seen = events.length;
    await kubectl(['-n', ns.name, 'apply', '-f', '-'], configMap('after-stop', { mine: 'yes' }));
    await new Promise((r) => setTimeout(r, 500));
    expect(events.length).toBe(seen);
  });
});
