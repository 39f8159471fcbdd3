import type { McpPolicy } from '../../api/mcp-policy.ts';
import { type KubeObject, keyOf } from '../../kube/object.ts';
import type { StoreEvent } from '../../kube/store.ts';

// Which McpPolicy keys an event of another kind concerns. A policy's own events queue it when its
// spec changes (kube/changes.ts).

/** A server's arrival, departure or label change can change which servers a policy lists. */
export function policyKeysForServerEvent(
  event: StoreEvent<KubeObject>,
  policies: readonly McpPolicy[],
): string[] {
  const ns = event.object.metadata.namespace;
  return policies.filter((p) => p.metadata.namespace === ns).map((p) => keyOf(p.metadata));
}
