import type { Logger } from 'pino';
import type { KubeClient } from './client.ts';
import { KubeError } from './errors.ts';
import type { KubeObject } from './object.ts';
import { collectionPath, type ResourceType } from './resources.ts';
import { Store, type StoreEvent } from './store.ts';
import { type WatchEvent, type WatchHandle, watch } from './watch.ts';

// List + watch into a Store, for one resource in one scope (a namespace or the whole cluster).
// client-node's makeInformer/ListWatch does not ask for bookmarks, lists without paging, has no
// "synced" signal, and stops for good on any error other than 410 or a client timeout; this one
// pages the list, watches with bookmarks, re-lists on 410 Gone (HTTP status or watch ERROR event)
// and retries everything else with capped exponential backoff until stopped.

export interface InformerOptions<T extends KubeObject> {
  client: KubeClient;
  resource: ResourceType;
  /** Undefined: all namespaces. */
  namespace?: string;
  labelSelector?: string;
  log: Logger;
  pageSize?: number;
  /** Trims what the cache keeps (e.g. managedFields of objects the operator never compares). */
  transform?: (object: T) => T;
}

type Handler<T> = (event: StoreEvent<T>) => void;

const MIN_BACKOFF_MS = 200;
const MAX_BACKOFF_MS = 30_000;

export class Informer<T extends KubeObject> {
  readonly store: Store<T>;
  readonly #o: InformerOptions<T>;
  readonly #handlers: Handler<T>[] = [];
  #wake: (() => void) | undefined;
  #resourceVersion = '';
  #stopped = true;
  #synced = false;
  #watch: WatchHandle | undefined;
  #loop: Promise<void> | undefined;
  #resolveSynced: () => void = () => {};
  readonly synced: Promise<void>;

  constructor(options: InformerOptions<T>, store: Store<T> = new Store<T>(options.transform)) {
    this.#o = options;
    this.store = store;
    this.synced = new Promise((resolve) => {
      this.#resolveSynced = resolve;
    });
  }

  get name(): string {
    return `${this.#o.resource.plural}${this.#o.namespace ? `@${this.#o.namespace}` : ''}`;
  }

  hasSynced(): boolean {
    return this.#synced;
  }

  on(handler: Handler<T>): void {
    this.#handlers.push(handler);
  }

  start(): void {
    if (!this.#stopped) return;
    this.#stopped = false;
    this.#loop = this.#run();
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    this.#watch?.stop();
    this.#wake?.();
    await this.#loop;
  }

  async #run(): Promise<void> {
    let backoff = MIN_BACKOFF_MS;
    while (!this.#stopped) {
      try {
        if (!this.#resourceVersion) await this.#relist();
        const began = Date.now();
        const delivered = await this.#watchOnce();
        if (delivered) backoff = MIN_BACKOFF_MS;
        else if (Date.now() - began < 1000 && this.#resourceVersion && !this.#stopped) {
          // Ended at once without a single event: do not spin.
          await this.#sleep(backoff);
          backoff = Math.min(backoff * 2, MAX_BACKOFF_MS);
        }
      } catch (err) {
        if (this.#stopped) break;
        if (err instanceof KubeError && err.code === 'GONE') {
          this.#resourceVersion = '';
          continue;
        }
        this.#o.log.warn({ err, informer: this.name, retryInMs: backoff }, 'list/watch failed; retrying');
        await this.#sleep(backoff);
        backoff = Math.min(backoff * 2, MAX_BACKOFF_MS);
      }
    }
  }

  async #relist(): Promise<void> {
    const items: T[] = [];
    let continueToken: string | undefined;
    let resourceVersion = '';
    do {
      const page = await this.#o.client.list<T>(this.#o.resource, this.#o.namespace, {
        labelSelector: this.#o.labelSelector,
        limit: this.#o.pageSize ?? 500,
        continueToken,
      });
      for (const item of page.items) {
        // List items carry no apiVersion/kind; watch events do. Keep the cache uniform.
        items.push({ ...item, apiVersion: this.#o.resource.apiVersion, kind: this.#o.resource.kind });
      }
      continueToken = page.metadata.continue || undefined;
      resourceVersion = page.metadata.resourceVersion ?? '';
    } while (continueToken && !this.#stopped);
    if (this.#stopped) return;
    const scope = this.#o.resource.namespaced ? this.#o.namespace : undefined;
    const events = this.store.replace(scope, items);
    this.#resourceVersion = resourceVersion;
    this.#o.log.debug({ informer: this.name, items: items.length, resourceVersion }, 'listed');
    for (const event of events) this.#emit(event);
    if (!this.#synced) {
      this.#synced = true;
      this.#resolveSynced();
    }
  }

  /** One watch connection; resolves when it ends. True when it delivered at least one event. */
  async #watchOnce(): Promise<boolean> {
    let delivered = false;
    const query: Record<string, string> = {
      resourceVersion: this.#resourceVersion,
      allowWatchBookmarks: 'true',
      // The server ends the watch after this; spread so that many informers do not reconnect at once.
      timeoutSeconds: String(300 + Math.floor(Math.random() * 300)),
    };
    if (this.#o.labelSelector) query.labelSelector = this.#o.labelSelector;
    const onEvent = ({ type, object }: WatchEvent<T & { code?: number }>) => {
      delivered = true;
      switch (type) {
        case 'ADDED':
        case 'MODIFIED':
          this.#record(this.store.upsert(object), object);
          break;
        case 'DELETED':
          this.#record(this.store.remove(object), object);
          break;
        case 'BOOKMARK':
          this.#resourceVersion = object.metadata?.resourceVersion ?? this.#resourceVersion;
          break;
        case 'ERROR':
          // A Status object; 410 means our resourceVersion is too old: list again.
          if (object.code === 410) this.#resourceVersion = '';
          else this.#o.log.warn({ informer: this.name, status: object }, 'watch error event');
          break;
      }
    };
    this.#watch = watch<T & { code?: number }>(
      this.#o.client.connection,
      collectionPath(this.#o.resource, this.#o.namespace),
      query,
      onEvent,
    );
    try {
      await this.#watch.done;
    } finally {
      this.#watch = undefined;
    }
    return delivered;
  }

  /** Backoff that stop() cuts short. */
  #sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(resolve, ms);
      this.#wake = () => {
        clearTimeout(timer);
        resolve();
      };
    });
  }

  #record(event: StoreEvent<T> | undefined, object: T): void {
    this.#resourceVersion = object.metadata.resourceVersion ?? this.#resourceVersion;
    if (event) this.#emit(event);
  }

  #emit(event: StoreEvent<T>): void {
    for (const handler of this.#handlers) {
      try {
        handler(event);
      } catch (err) {
        this.#o.log.error({ err, informer: this.name }, 'event handler failed');
      }
    }
  }
}
