import type { Logger } from 'pino';
import type { McpPolicy } from '../../api/mcp-policy.ts';
import type { McpServer } from '../../api/mcp-server.ts';
import type { InformerGroup } from '../../kube/informer-group.ts';
import type { KubeObject } from '../../kube/object.ts';
import { WorkQueue } from '../../kube/queue.ts';
import type { RateLimiter } from '../../kube/rate-limiter.ts';
import type { OperatorMetrics } from '../../metrics/metrics.ts';
import { Controller } from '../controller.ts';
import { policyVersionChanged, serverKeysForPolicyEvent } from '../mcppolicy/checks.ts';
import { serverEventMatters, serverKeyOf, serverKeysForChildEvent } from './checks.ts';
import { type PodView, podEventMatters } from './pod-health.ts';
import type { PodIndex } from './pod-index.ts';
import { type ServerSyncDeps, syncServer } from './sync.ts';

// Wiring of the McpServer controller: which events queue which server keys. The logic is in
// sync.ts, the decisions about events in checks.ts.

export const SERVER_KIND = 'McpServer';

export interface ServerControllerOptions {
  servers: InformerGroup<McpServer>;
  policies: InformerGroup<McpPolicy>;
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
    if (serverEventMatters(event)) queue.add(serverKeyOf(event.object));
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
  return new Controller({
    kind: SERVER_KIND,
    queue,
    reconcile: (key) => syncServer(o.sync, key),
    workers: o.workers,
    log: o.log,
    metrics: o.metrics,
  });
}
