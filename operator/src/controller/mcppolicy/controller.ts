import type { Logger } from 'pino';
import type { McpPolicy } from '../../api/mcp-policy.ts';
import type { McpServer } from '../../api/mcp-server.ts';
import { specChanged, specLabelsOrDeletionChanged } from '../../kube/changes.ts';
import { Controller } from '../../kube/controller.ts';
import type { InformerGroup } from '../../kube/informer-group.ts';
import { keyOf } from '../../kube/object.ts';
import { WorkQueue } from '../../kube/queue.ts';
import type { RateLimiter } from '../../kube/rate-limiter.ts';
import type { OperatorMetrics } from '../../metrics/metrics.ts';
import { policyKeysForServerEvent } from './checks.ts';
import { type PolicySyncDeps, syncPolicy } from './sync.ts';

// Wiring of the McpPolicy controller: a policy's own changes, and servers coming, going or changing
// labels (its list of selected servers) queue its key.

export const POLICY_KIND = 'McpPolicy';

export interface PolicyControllerOptions {
  servers: InformerGroup<McpServer>;
  policies: InformerGroup<McpPolicy>;
  sync: PolicySyncDeps;
  workers: number;
  log: Logger;
  metrics: OperatorMetrics;
  rateLimiter?: RateLimiter;
}

export function createPolicyController(o: PolicyControllerOptions): Controller {
  const queue = new WorkQueue({
    rateLimiter: o.rateLimiter,
    onDepth: (depth) => o.metrics.queueDepth.set({ kind: POLICY_KIND }, depth),
  });
  o.policies.on((event) => {
    if (event.type === 'delete') o.sync.checker.forget(event.object);
    if (specChanged(event)) queue.add(keyOf(event.object.metadata));
  });
  o.servers.on((event) => {
    if (!specLabelsOrDeletionChanged(event)) return;
    for (const key of policyKeysForServerEvent(
      event,
      o.policies.store.list(event.object.metadata.namespace),
    )) {
      queue.add(key);
    }
  });
  return new Controller({
    kind: POLICY_KIND,
    queue,
    reconcile: (key) => syncPolicy(o.sync, key),
    workers: o.workers,
    log: o.log,
    metrics: o.metrics,
  });
}
