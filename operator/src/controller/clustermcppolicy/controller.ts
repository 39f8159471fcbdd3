import type { Logger } from 'pino';
import type { ClusterMcpPolicy } from '../../api/cluster-mcp-policy.ts';
import type { McpServer } from '../../api/mcp-server.ts';
import { specChanged, specLabelsOrDeletionChanged } from '../../kube/changes.ts';
import { Controller } from '../../kube/controller.ts';
import type { InformerGroup } from '../../kube/informer-group.ts';
import { type KubeObject, keyOf } from '../../kube/object.ts';
import { WorkQueue } from '../../kube/queue.ts';
import type { RateLimiter } from '../../kube/rate-limiter.ts';
import type { OperatorMetrics } from '../../metrics/metrics.ts';
import { type ClusterPolicySyncDeps, syncClusterPolicy } from './sync.ts';

// Wiring of the ClusterMcpPolicy controller: its own changes, and servers or namespaces coming,
// going or changing labels (its list of selected servers) queue it.

export const CLUSTER_POLICY_KIND = 'ClusterMcpPolicy';

export interface ClusterPolicyControllerOptions {
  servers: InformerGroup<McpServer>;
  namespaces: InformerGroup<KubeObject>;
  policies: InformerGroup<ClusterMcpPolicy>;
  sync: ClusterPolicySyncDeps;
  workers: number;
  log: Logger;
  metrics: OperatorMetrics;
  rateLimiter?: RateLimiter;
}

export function createClusterPolicyController(o: ClusterPolicyControllerOptions): Controller {
  const queue = new WorkQueue({
    rateLimiter: o.rateLimiter,
    onDepth: (depth) => o.metrics.queueDepth.set({ kind: CLUSTER_POLICY_KIND }, depth),
  });
  const all = () => {
    for (const p of o.policies.store.list()) queue.add(keyOf(p.metadata));
  };
  o.policies.on((event) => {
    if (event.type === 'delete') o.sync.checker.forget(event.object);
    if (specChanged(event)) queue.add(keyOf(event.object.metadata));
  });
  o.servers.on((event) => {
    if (specLabelsOrDeletionChanged(event)) all();
  });
  o.namespaces.on((event) => {
    if (
      event.type !== 'update' ||
      JSON.stringify(event.old.metadata.labels) !== JSON.stringify(event.object.metadata.labels)
    )
      all();
  });
  return new Controller({
    kind: CLUSTER_POLICY_KIND,
    queue,
    reconcile: (key) => syncClusterPolicy(o.sync, key),
    workers: o.workers,
    log: o.log,
    metrics: o.metrics,
  });
}
