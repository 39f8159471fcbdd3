import type { McpPolicy } from '../../api/mcp-policy.ts';
import type { McpServer } from '../../api/mcp-server.ts';
import { type KubeObject, keyOf } from '../../kube/object.ts';
import { selects } from '../../render/policy-selection.ts';
import type { StoreEvent } from '../store.ts';

// Which keys a policy event concerns: the McpServers it selected before or selects now (so a
// server that leaves the selection loses the rules too), and the policy itself.

/** A policy needs attention when it appears or goes, or its spec changes; not for its status. */
export function policyEventMatters(event: StoreEvent<KubeObject>): boolean {
  return event.type !== 'update' || event.old.metadata.generation !== event.object.metadata.generation;
}

export function selectedServers(policy: McpPolicy, servers: readonly McpServer[]): McpServer[] {
  return servers.filter((s) => selects(policy, s));
}

export function serverKeysForPolicyEvent(
  event: StoreEvent<McpPolicy>,
  servers: readonly McpServer[],
): string[] {
  const keys = new Set<string>();
  for (const s of selectedServers(event.object, servers)) keys.add(keyOf(s.metadata));
  if (event.type === 'update')
    for (const s of selectedServers(event.old, servers)) keys.add(keyOf(s.metadata));
  return [...keys].sort();
}

/** A server's arrival, departure or label change can change which servers a policy lists. */
export function policyKeysForServerEvent(
  event: StoreEvent<KubeObject>,
  policies: readonly McpPolicy[],
): string[] {
  const ns = event.object.metadata.namespace;
  return policies.filter((p) => p.metadata.namespace === ns).map((p) => keyOf(p.metadata));
}
