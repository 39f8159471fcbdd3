import { describe, expect, it } from 'vitest';
import type { KubeObject } from '../../../../operator/src/kube/object.ts';
import { Store } from '../../../../operator/src/kube/store.ts';

const obj = (name: string, rv: string, ns = 'a'): KubeObject => ({
  metadata: { name, namespace: ns, resourceVersion: rv },
});

describe('Store', () => {
  it.each([
    { name: 'a new object is an add', before: [], next: obj('x', '5'), type: 'add' },
    { name: 'a newer version is an update', before: [obj('x', '5')], next: obj('x', '6'), type: 'update' },
    {
      name: 'the same version again is no event',
      before: [obj('x', '5')],
      next: obj('x', '5'),
      type: undefined,
    },
    {
      name: 'an older version (a watch event behind our own write) is ignored',
      before: [obj('x', '10')],
      next: obj('x', '9'),
      type: undefined,
    },
  ])('upsert: $name', ({ before, next, type }) => {
    const store = new Store<KubeObject>();
    for (const o of before) store.upsert(o);
    expect(store.upsert(next)?.type).toBe(type);
  });

  it('a re-list reports what changed in the gap: adds, updates and deletes', () => {
    const store = new Store<KubeObject>();
    for (const o of [obj('keep', '1'), obj('change', '1'), obj('gone', '1')]) store.upsert(o);
    const events = store.replace('a', [obj('keep', '1'), obj('change', '2'), obj('new', '3')]);
    expect(events.map((e) => `${e.type} ${e.object.metadata.name}`).sort()).toEqual([
      'add new',
      'delete gone',
      'update change',
    ]);
    expect(
      store
        .list('a')
        .map((o) => o.metadata.name)
        .sort(),
    ).toEqual(['change', 'keep', 'new']);
  });

  it('a re-list of one namespace leaves the other namespaces alone', () => {
    const store = new Store<KubeObject>();
    store.upsert(obj('x', '1', 'a'));
    store.upsert(obj('y', '1', 'b'));
    expect(store.replace('a', [])).toHaveLength(1);
    expect(store.get('b', 'y')).toBeDefined();
    expect(store.size).toBe(1);
  });
});
