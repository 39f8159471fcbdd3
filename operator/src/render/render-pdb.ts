import type { V1PodDisruptionBudget } from '@kubernetes/client-node';
import type { McpServer } from '../api/mcp-server.ts';
import { childMeta, selectorLabels } from './meta.ts';

// With more than one replica, voluntary disruptions (drains, upgrades) take at most one pod at a
// time. With one replica a budget would block drains forever, so none is rendered (and the
// controller deletes one left from a larger scale).

export function renderPodDisruptionBudget(
  server: McpServer,
  replicas: number,
): V1PodDisruptionBudget | undefined {
  if (replicas <= 1) return undefined;
  return {
    apiVersion: 'policy/v1',
    kind: 'PodDisruptionBudget',
    metadata: childMeta(server),
    spec: {
      maxUnavailable: 1,
      selector: { matchLabels: selectorLabels(server) },
    },
  };
}
