import { Informer, type InformerOptions } from './informer.ts';
import type { KubeObject } from './object.ts';
import { Store, type StoreEvent } from './store.ts';

// One resource watched in every namespace of the operator's scope (one informer per namespace in
// namespace-scoped mode, a single cluster-wide informer otherwise), feeding one shared Store.

export class InformerGroup<T extends KubeObject> {
  readonly store: Store<T>;
  readonly informers: Informer<T>[];

  /** namespaces undefined: cluster-wide. */
  constructor(options: Omit<InformerOptions<T>, 'namespace'>, namespaces: readonly string[] | undefined) {
    this.store = new Store<T>(options.transform);
    const scopes = namespaces ?? [undefined];
    this.informers = scopes.map((namespace) => new Informer<T>({ ...options, namespace }, this.store));
  }

  on(handler: (event: StoreEvent<T>) => void): void {
    for (const informer of this.informers) informer.on(handler);
  }

  start(): void {
    for (const informer of this.informers) informer.start();
  }

  async stop(): Promise<void> {
    await Promise.all(this.informers.map((i) => i.stop()));
  }

  hasSynced(): boolean {
    return this.informers.every((i) => i.hasSynced());
  }

  async synced(): Promise<void> {
    await Promise.all(this.informers.map((i) => i.synced));
  }
}
