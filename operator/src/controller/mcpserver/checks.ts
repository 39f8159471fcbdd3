import { API_VERSION } from '../../api/group.ts';
import { MCP_SERVER_KIND } from '../../api/mcp-server.ts';
import { type KubeObject, keyOf } from '../../kube/object.ts';
import type { StoreEvent } from '../../kube/store.ts';

// Which McpServer keys an event concerns. Small pure predicates, each saying why, so the wiring
// only forwards keys and the tests can name every case.

/** The McpServer that controls a child object, from its controller owner reference. */
export function ownerServerKey(child: KubeObject): string | undefined {
  const owner = child.metadata.ownerReferences?.find(
    (r) => r.controller && r.kind === MCP_SERVER_KIND && r.apiVersion === API_VERSION,
  );
  return owner && child.metadata.namespace ? `${child.metadata.namespace}/${owner.name}` : undefined;
}

/**
 * Any change to a child (created, edited, deleted, or its status moved) may need a reconcile: to
 * revert drift, recreate what was deleted, or report the rollout in status.
 */
export function serverKeysForChildEvent(event: StoreEvent<KubeObject>): string[] {
  const key = ownerServerKey(event.object);
  return key ? [key] : [];
}

/**
 * An McpServer needs a reconcile when it appears, when its spec changes (generation), when its
 * labels change (which policies select it) or when it is being deleted; not for the operator's own
 * status writes, which would otherwise loop.
 */
export function serverEventMatters(event: StoreEvent<KubeObject>): boolean {
  if (event.type !== 'update') return true;
  const a = event.old.metadata;
  const b = event.object.metadata;
  return (
    a.generation !== b.generation ||
    a.deletionTimestamp !== b.deletionTimestamp ||
    JSON.stringify(a.labels ?? {}) !== JSON.stringify(b.labels ?? {})
  );
}

export function serverKeyOf(server: KubeObject): string {
  return keyOf(server.metadata);
}
