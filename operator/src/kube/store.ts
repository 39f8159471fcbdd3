import type { KubeObject } from './object.ts';

// The informer's cache: objects by namespace and name, as last seen by list or watch. Reconcilers
// read only from here; the informer is the only writer.

export type StoreEvent<T> =
  | { type: 'add'; object: T }
  | { type: 'update'; object: T; old: T }
  | { type: 'delete'; object: T };

export class Store<T extends KubeObject> {
  readonly #byNamespace = new Map<string, Map<string, T>>();
  readonly #transform: (object: T) => T;

  /** transform trims what is kept (e.g. managedFields the operator never reads), for every write. */
  constructor(transform: (object: T) => T = (o) => o) {
    this.#transform = transform;
  }

  get(namespace: string | undefined, name: string): T | undefined {
    return this.#byNamespace.get(namespace ?? '')?.get(name);
  }

  /** Objects of one namespace, or of all when namespace is undefined. */
  list(namespace?: string): T[] {
    if (namespace !== undefined) return [...(this.#byNamespace.get(namespace)?.values() ?? [])];
    const all: T[] = [];
    for (const objects of this.#byNamespace.values()) all.push(...objects.values());
    return all;
  }

  get size(): number {
    let n = 0;
    for (const objects of this.#byNamespace.values()) n += objects.size;
    return n;
  }

  /** Records a watch event; returns what changed (undefined for a repeat of a known version). */
  upsert(input: T): StoreEvent<T> | undefined {
    const object = this.#transform(input);
    const ns = object.metadata.namespace ?? '';
    let objects = this.#byNamespace.get(ns);
    if (!objects) {
      objects = new Map();
      this.#byNamespace.set(ns, objects);
    }
    const old = objects.get(object.metadata.name);
    // The reconciler writes its own apply results through; a slower watch event must not undo that.
    if (old && isOlder(object.metadata.resourceVersion, old.metadata.resourceVersion)) return undefined;
    objects.set(object.metadata.name, object);
    if (!old) return { type: 'add', object };
    if (old.metadata.resourceVersion === object.metadata.resourceVersion) return undefined;
    return { type: 'update', object, old };
  }

  remove(object: T): StoreEvent<T> | undefined {
    const ns = object.metadata.namespace ?? '';
    const objects = this.#byNamespace.get(ns);
    const old = objects?.get(object.metadata.name);
    if (!objects || !old) return undefined;
    objects.delete(object.metadata.name);
    if (objects.size === 0) this.#byNamespace.delete(ns);
    return { type: 'delete', object: old };
  }

  /**
   * Replaces the contents of one scope (a namespace, or everything when scope is undefined) with a
   * fresh list, and returns the differences, so a re-list after a lost watch reports the deletes
   * and updates that happened in the gap.
   */
  replace(scope: string | undefined, items: readonly T[]): StoreEvent<T>[] {
    const events: StoreEvent<T>[] = [];
    const seen = new Set<string>();
    for (const item of items) {
      seen.add(`${item.metadata.namespace ?? ''}/${item.metadata.name}`);
      const event = this.upsert(item);
      if (event) events.push(event);
    }
    const namespaces = scope === undefined ? [...this.#byNamespace.keys()] : [scope];
    for (const ns of namespaces) {
      for (const object of [...(this.#byNamespace.get(ns)?.values() ?? [])]) {
        if (seen.has(`${ns}/${object.metadata.name}`)) continue;
        const event = this.remove(object);
        if (event) events.push(event);
      }
    }
    return events;
  }
}

/** resourceVersions are opaque, but etcd's are integers; compare only when both are. */
function isOlder(a: string | undefined, b: string | undefined): boolean {
  if (!a || !b || !/^\d+$/.test(a) || !/^\d+$/.test(b)) return false;
  return a.length === b.length ? a < b : a.length < b.length;
}
