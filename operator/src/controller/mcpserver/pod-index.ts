import type { StoreEvent } from '../../kube/store.ts';
import { type PodView, serverKeyOfPod } from './pod-health.ts';

// The pods of each McpServer, kept from the pod informer's events, so a reconcile finds a server's
// pods without scanning every pod of its namespace (a namespace may hold a thousand servers).

export class PodIndex {
  readonly #byServer = new Map<string, Map<string, PodView>>();

  /** Records an event; returns the server key it concerns, if the pod belongs to one. */
  record(event: StoreEvent<PodView>): string | undefined {
    const key = serverKeyOfPod(event.object);
    if (!key) return undefined;
    const name = event.object.metadata.name;
    let pods = this.#byServer.get(key);
    if (event.type === 'delete') {
      pods?.delete(name);
      if (pods?.size === 0) this.#byServer.delete(key);
      return key;
    }
    if (!pods) {
      pods = new Map();
      this.#byServer.set(key, pods);
    }
    pods.set(name, event.object);
    return key;
  }

  podsOf(serverKey: string): PodView[] {
    return [...(this.#byServer.get(serverKey)?.values() ?? [])];
  }
}
