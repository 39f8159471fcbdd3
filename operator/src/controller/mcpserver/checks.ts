import { API_VERSION } from '../../api/group.ts';
import type { McpPolicy } from '../../api/mcp-policy.ts';
import { MCP_SERVER_KIND, type McpServer } from '../../api/mcp-server.ts';
import { specChanged } from '../../kube/changes.ts';
import { type KubeObject, keyOf } from '../../kube/object.ts';
import type { StoreEvent } from '../../kube/store.ts';
import { mayGovern } from '../../policy/accepted.ts';

// Which McpServer keys an event concerns: of a server itself, of its children, of a policy. Small
// pure predicates, each saying why, so the wiring only forwards keys and the tests can name every
// case. A server's own events queue it when its spec, labels or deletion change (kube/changes.ts):
// its labels decide which policies select it; its status writes are the operator's own.

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

export function serverKeyOf(server: KubeObject): string {
  return keyOf(server.metadata);
}

/**
 * The servers' view of a policy changes with its spec and with the version recorded as accepted
 * (what they keep while the spec is not accepted); other status writes do not concern them.
 */
export function policyVersionChanged(
  event: StoreEvent<KubeObject & { status?: { lastAccepted?: { digest: string } } }>,
): boolean {
  return (
    specChanged(event) ||
    (event.type === 'update' &&
      event.old.status?.lastAccepted?.digest !== event.object.status?.lastAccepted?.digest)
  );
}

/** Servers the policy may govern before or after the event, at any version (policy/accepted.ts). */
export function serverKeysForPolicyEvent(
  event: StoreEvent<McpPolicy>,
  servers: readonly McpServer[],
): string[] {
  const versions = event.type === 'update' ? [event.object, event.old] : [event.object];
  return servers
    .filter((s) => s.metadata.namespace === event.object.metadata.namespace)
    .filter((s) => versions.some((p) => mayGovern(p, s.metadata.labels)))
    .map((s) => keyOf(s.metadata))
    .sort();
}
