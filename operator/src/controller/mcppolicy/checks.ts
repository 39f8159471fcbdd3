import type { McpPolicy } from '../../api/mcp-policy.ts';
import type { McpServer } from '../../api/mcp-server.ts';
import { type KubeObject, keyOf } from '../../kube/object.ts';
import type { StoreEvent } from '../../kube/store.ts';
import { mayGovern } from '../../policy/accepted.ts';
import { selects } from '../../policy/selection.ts';

// Which keys a policy event concerns: the McpServers it may govern before or after (so a server
// that leaves the selection loses the rules too), and the policy itself.

/** A policy needs attention when it appears or goes, or its spec changes; not for its status. */
export function policyEventMatters(event: StoreEvent<KubeObject>): boolean {
  return event.type !== 'update' || event.old.metadata.generation !== event.object.metadata.generation;
}

/**
 * The servers' view of a policy changes with its spec and with the version recorded as accepted
 * (what they keep while the spec is not accepted); other status writes do not concern them.
 */
export function policyVersionChanged(event: StoreEvent<McpPolicy>): boolean {
  return (
    policyEventMatters(event) ||
    (event.type === 'update' &&
      event.old.status?.lastAccepted?.digest !== event.object.status?.lastAccepted?.digest)
  );
}

export function selectedServers(policy: McpPolicy, servers: readonly McpServer[]): McpServer[] {
  return servers.filter((s) => selects(policy, s));
}

/** Servers the policy may govern before or after the event, at any version (accepted.ts). */
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

/** A server's arrival, departure or label change can change which servers a policy lists. */
export function policyKeysForServerEvent(
  event: StoreEvent<KubeObject>,
  policies: readonly McpPolicy[],
): string[] {
  const ns = event.object.metadata.namespace;
  return policies.filter((p) => p.metadata.namespace === ns).map((p) => keyOf(p.metadata));
}
