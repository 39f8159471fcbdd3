import type { Logger } from 'pino';
import type { ClusterMcpPolicy } from '../../api/cluster-mcp-policy.ts';
import type { McpPolicy } from '../../api/mcp-policy.ts';
import type { McpServer } from '../../api/mcp-server.ts';
import { specLabelsOrDeletionChanged } from '../../kube/changes.ts';
import { Controller } from '../../kube/controller.ts';
import type { InformerGroup } from '../../kube/informer-group.ts';
import type { KubeObject } from '../../kube/object.ts';
import { WorkQueue } from '../../kube/queue.ts';
import type { RateLimiter } from '../../kube/rate-limiter.ts';
import type { OperatorMetrics } from '../../metrics/metrics.ts';
import { clusterMayGovern } from '../../policy/cluster.ts';
import {
  policyVersionChanged,
  serverKeyOf,
  serverKeysForChildEvent,
  serverKeysForPolicyEvent,
} from './checks.ts';
import { type PodView, podEventMatters } from './pod-health.ts';
import type { PodIndex } from './pod-index.ts';
import { type ServerSyncDeps, syncServer } from './sync.ts';

// Wiring of the McpServer controller: which events queue which server keys. The logic is in
// sync.ts, the decisions about events in checks.ts.

export const SERVER_KIND = 'McpServer';

export interface ServerControllerOptions {
  servers: InformerGroup<McpServer>;
  policies: InformerGroup<McpPolicy>;
  clusterPolicies: InformerGroup<ClusterMcpPolicy>;
  /** Namespaces (name and labels): ClusterMcpPolicies select servers by their namespace's labels. */
  namespaces: InformerGroup<KubeObject>;
  children: readonly InformerGroup<KubeObject>[];
  /** The rendered pods, by label; their events feed the index that status reads. */
  pods: InformerGroup<PodView>;
  podIndex: PodIndex;
  sync: ServerSyncDeps;
  workers: number;
  log: Logger;
  metrics: OperatorMetrics;
  rateLimiter?: RateLimiter;
}

export function createServerController(o: ServerControllerOptions): Controller {
  const queue = new WorkQueue({
    rateLimiter: o.rateLimiter,
    onDepth: (depth) => o.metrics.queueDepth.set({ kind: SERVER_KIND }, depth),
  });
  o.servers.on((event) => {
    if (specLabelsOrDeletionChanged(event)) queue.add(serverKeyOf(event.object));
  });
  for (const group of o.children) {
    group.on((event) => {
      for (const key of serverKeysForChildEvent(event)) queue.add(key);
    });
  }
  o.pods.on((event) => {
    const key = o.podIndex.record(event);
    if (key && podEventMatters(event)) queue.add(key);
  });
  o.policies.on((event) => {
    if (!policyVersionChanged(event)) return;
    const ns = event.object.metadata.namespace;
    for (const key of serverKeysForPolicyEvent(event, o.servers.store.list(ns))) queue.add(key);
  });
  o.clusterPolicies.on((event) => {
    if (!policyVersionChanged(event)) return;
    const versions = event.type === 'update' ? [event.object, event.old] : [event.object];
    for (const s of o.servers.store.list()) {
      const labels = o.namespaces.store.get(undefined, s.metadata.namespace ?? '')?.metadata.labels;
      if (versions.some((p) => clusterMayGovern(p, s, labels))) queue.add(serverKeyOf(s));
    }
  });
  o.namespaces.on((event) => {
    const { old, object } = event.type === 'update' ? event : { old: undefined, object: event.object };
    if (old && JSON.stringify(old.metadata.labels ?? {}) === JSON.stringify(object.metadata.labels ?? {}))
      return;
    if (o.clusterPolicies.store.size === 0) return;
    for (const s of o.servers.store.list(object.metadata.name)) queue.add(serverKeyOf(s));
  });
  return new Controller({
    kind: SERVER_KIND,
    queue,
    reconcile: (key) => syncServer(o.sync, key),
    workers: o.workers,
    log: o.log,
    metrics: o.metrics,
  });
}
