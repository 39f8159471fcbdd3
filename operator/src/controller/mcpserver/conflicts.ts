import type { McpServer } from '../../api/mcp-server.ts';
import type { KubeClient } from '../../kube/client.ts';
import type { KubeObject } from '../../kube/object.ts';
import { resourceOf } from '../../kube/resources.ts';
import type { Store } from '../../kube/store.ts';
import { controllerOf, isControlledBy } from '../../reconcile/ownership.ts';

// The operator never takes over an object it did not create. A child it is about to create may
// already exist under that name (a user's ConfigMap, the namespace's `default` ServiceAccount, a
// leftover of a deleted namesake); server-side apply would silently adopt it, and the garbage
// collector would then delete it with the McpServer. So before creating, the name is looked up:
// in the child caches (which hold only labelled objects), then with a GET, since a stranger's object
// carries no label. A server with any conflict gets no child applied at all (its pods must not run
// as someone else's ServiceAccount or mount someone else's ConfigMap) and reports it instead.

/** Pure: why `existing` may not be taken over by `server`, or undefined when it is the server's own. */
export function conflictWith(server: McpServer, existing: KubeObject | undefined): string | undefined {
  if (!existing || isControlledBy(existing, server)) return undefined;
  const { kind, metadata } = existing;
  return `${kind} ${metadata.name} already exists and was not created for this McpServer (${controllerOf(existing)}); rename or remove it, or rename the McpServer`;
}

/** The first conflict among the children about to be created, or undefined. */
export async function creationConflict(
  client: KubeClient,
  children: ReadonlyMap<string, Store<KubeObject>>,
  server: McpServer,
  toCreate: readonly KubeObject[],
): Promise<string | undefined> {
  const found = await Promise.all(
    toCreate.map(async (desired) => {
      const { namespace, name } = desired.metadata;
      const kind = desired.kind ?? '';
      const cached = children.get(kind)?.get(namespace ?? '', name);
      if (cached) return conflictWith(server, { ...cached, kind });
      const r = resourceOf(desired.apiVersion ?? '', kind);
      const live = r ? await client.get(r, namespace, name) : undefined;
      return conflictWith(server, live && { ...live, kind });
    }),
  );
  return found.find((c) => c !== undefined);
}
