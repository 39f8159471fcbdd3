import type { Logger } from 'pino';
import type { ClusterMcpPolicy } from '../api/cluster-mcp-policy.ts';
import { FIELD_MANAGER } from '../api/group.ts';
import type { McpPolicy } from '../api/mcp-policy.ts';
import type { McpServer } from '../api/mcp-server.ts';
import type { OperatorDefaults } from '../api/operator-defaults.ts';
import { createClusterPolicyController } from '../controller/clustermcppolicy/controller.ts';
import { createPolicyController } from '../controller/mcppolicy/controller.ts';
import { createServerController } from '../controller/mcpserver/controller.ts';
import { type PodView, trimPod } from '../controller/mcpserver/pod-health.ts';
import { PodIndex } from '../controller/mcpserver/pod-index.ts';
import { resolvePolicies, withClusterPolicies } from '../controller/mcpserver/policies.ts';
import type { Rendered } from '../controller/mcpserver/sync.ts';
import type { KubeClient } from '../kube/client.ts';
import type { Controller } from '../kube/controller.ts';
import { EventRecorder } from '../kube/events.ts';
import { InformerGroup } from '../kube/informer-group.ts';
import type { KubeObject } from '../kube/object.ts';
import { Resources, type ResourceType } from '../kube/resources.ts';
import type { OperatorMetrics } from '../metrics/metrics.ts';
import { PolicyChecker } from '../policy/checker.ts';
import { checkClusterPolicy, checkPolicy } from '../policy/validation.ts';
import { trimManagedFields } from '../reconcile/drift.ts';
import { MANAGED_SELECTOR } from '../reconcile/ownership.ts';
import { renderServer } from '../render/render-server.ts';

// The operator while it leads: informers for McpServer, McpPolicy and the owned children, and the
// two controllers reading from their caches. Started when this replica becomes leader, stopped
// (in-flight reconciles finished) when it stops leading or shuts down.

export const CHILD_RESOURCES: readonly ResourceType[] = [
  Resources.ServiceAccount,
  Resources.ConfigMap,
  Resources.Deployment,
  Resources.Service,
  Resources.NetworkPolicy,
  Resources.PodDisruptionBudget,
];

export interface OperatorDeps {
  client: KubeClient;
  defaults: OperatorDefaults;
  /** undefined: every namespace. */
  namespaces: readonly string[] | undefined;
  identity: string;
  workers: number;
  resyncSeconds: number;
  log: Logger;
  metrics: OperatorMetrics;
  now?: () => Date;
}

/** managedFields are only compared on children; dropping them elsewhere keeps the caches small. */
function withoutManagedFields<T extends KubeObject>(object: T): T {
  if (!object.metadata.managedFields) return object;
  const { managedFields: _m, ...metadata } = object.metadata;
  return { ...object, metadata };
}

/** On children only our own apply entry and others' claims on a pod template matter (see reconcile/drift.ts). */
function withOwnManagedFields<T extends KubeObject>(object: T): T {
  const entries = object.metadata.managedFields;
  if (!entries) return object;
  const managedFields = trimManagedFields(entries, FIELD_MANAGER);
  return { ...object, metadata: { ...object.metadata, managedFields } };
}

export function renderFor(defaults: OperatorDefaults) {
  return (
    server: McpServer,
    policies: readonly McpPolicy[],
    clusterPolicies: readonly ClusterMcpPolicy[],
  ): Rendered => {
    const result = renderServer({ server, policies, clusterPolicies, defaults });
    if (!result.ok) return { ok: false, reason: result.error.reason, message: result.error.message };
    const c = result.children;
    // Apply order: what the pods mount and run as first, then the pods, then the ways in.
    const objects = [
      c.serviceAccount,
      c.configMap,
      c.deployment,
      c.service,
      c.networkPolicy,
      c.podDisruptionBudget,
    ];
    return {
      ok: true,
      objects: objects.filter((o) => o !== undefined) as KubeObject[],
      url: result.url,
      replicas: server.spec.hosted?.replicas ?? 1,
    };
  };
}

/** A Namespace as the cache keeps it: what a cluster policy's selector reads, and its version. */
function trimNamespace(ns: KubeObject): KubeObject {
  const { name, labels, resourceVersion } = ns.metadata;
  return {
    apiVersion: 'v1',
    kind: 'Namespace',
    metadata: { name, resourceVersion, ...(labels ? { labels } : {}) },
  };
}

export class Operator {
  readonly servers: InformerGroup<McpServer>;
  readonly policies: InformerGroup<McpPolicy>;
  /** Cluster-scoped, watched cluster-wide whatever the namespaces of the operator. */
  readonly clusterPolicies: InformerGroup<ClusterMcpPolicy>;
  readonly namespaces: InformerGroup<KubeObject>;
  readonly children: Map<string, InformerGroup<KubeObject>>;
  readonly pods: InformerGroup<PodView>;
  readonly serverController: Controller;
  readonly policyController: Controller;
  readonly clusterPolicyController: Controller;
  readonly #deps: OperatorDeps;
  #resyncTimer: NodeJS.Timeout | undefined;
  #running = false;

  constructor(deps: OperatorDeps) {
    this.#deps = deps;
    const { client, log, metrics, namespaces } = deps;
    const now = deps.now ?? (() => new Date());
    const informerLog = log.child({ component: 'informer' });
    this.servers = new InformerGroup<McpServer>(
      { client, resource: Resources.McpServer, log: informerLog, transform: withoutManagedFields },
      namespaces,
    );
    this.policies = new InformerGroup<McpPolicy>(
      { client, resource: Resources.McpPolicy, log: informerLog, transform: withoutManagedFields },
      namespaces,
    );
    this.clusterPolicies = new InformerGroup<ClusterMcpPolicy>(
      { client, resource: Resources.ClusterMcpPolicy, log: informerLog, transform: withoutManagedFields },
      undefined,
    );
    this.namespaces = new InformerGroup<KubeObject>(
      { client, resource: Resources.Namespace, log: informerLog, transform: trimNamespace },
      undefined,
    );
    this.children = new Map(
      CHILD_RESOURCES.map((resource) => [
        resource.kind,
        new InformerGroup<KubeObject>(
          {
            client,
            resource,
            labelSelector: MANAGED_SELECTOR,
            log: informerLog,
            transform: withOwnManagedFields,
          },
          namespaces,
        ),
      ]),
    );
    // Only the pods the operator rendered (by label), trimmed to what status reads: watching every
    // pod of the cluster would cost memory in proportion to everything else that runs there.
    this.pods = new InformerGroup<PodView>(
      {
        client,
        resource: Resources.Pod,
        labelSelector: MANAGED_SELECTOR,
        log: informerLog,
        transform: trimPod,
      },
      namespaces,
    );
    const podIndex = new PodIndex();
    const events = new EventRecorder({ client, log, instance: deps.identity, now });
    const checker = new PolicyChecker(checkPolicy);
    const clusterChecker = new PolicyChecker<ClusterMcpPolicy>(checkClusterPolicy);
    const namespaceLabels = (name: string) => this.namespaces.store.get(undefined, name)?.metadata.labels;
    const render = renderFor(deps.defaults);
    const childStores = new Map([...this.children].map(([kind, group]) => [kind, group.store]));

    this.serverController = createServerController({
      servers: this.servers,
      policies: this.policies,
      clusterPolicies: this.clusterPolicies,
      namespaces: this.namespaces,
      children: [...this.children.values()],
      pods: this.pods,
      podIndex,
      workers: deps.workers,
      log: log.child({ controller: 'mcpserver' }),
      metrics,
      sync: {
        client,
        fieldManager: FIELD_MANAGER,
        servers: this.servers.store,
        children: childStores,
        resolvePolicies: (server) =>
          withClusterPolicies(
            resolvePolicies(server, this.policies.store.list(server.metadata.namespace), checker),
            server,
            {
              policies: this.clusterPolicies.store.list(),
              namespaceLabels: namespaceLabels(server.metadata.namespace ?? ''),
              checker: clusterChecker,
            },
          ),
        render,
        pods: (key) => podIndex.podsOf(key),
        events,
        log: log.child({ controller: 'mcpserver' }),
        now,
      },
    });
    this.policyController = createPolicyController({
      servers: this.servers,
      policies: this.policies,
      workers: Math.max(1, Math.ceil(deps.workers / 4)),
      log: log.child({ controller: 'mcppolicy' }),
      metrics,
      sync: {
        client,
        fieldManager: FIELD_MANAGER,
        policies: this.policies.store,
        servers: this.servers.store,
        checker,
        events,
        log: log.child({ controller: 'mcppolicy' }),
        now,
      },
    });
    this.clusterPolicyController = createClusterPolicyController({
      servers: this.servers,
      namespaces: this.namespaces,
      policies: this.clusterPolicies,
      workers: 1,
      log: log.child({ controller: 'clustermcppolicy' }),
      metrics,
      sync: {
        client,
        fieldManager: FIELD_MANAGER,
        policies: this.clusterPolicies.store,
        servers: this.servers.store,
        namespaceLabels,
        checker: clusterChecker,
        events,
        log: log.child({ controller: 'clustermcppolicy' }),
        now,
      },
    });
    metrics.servers = () =>
      this.servers.store.list().map((s) => ({
        namespace: s.metadata.namespace ?? '',
        name: s.metadata.name,
        phase: s.status?.phase ?? 'Pending',
        replicas: s.spec.hosted?.replicas ?? 0,
      }));
  }

  get #groups(): InformerGroup<KubeObject>[] {
    return [
      this.servers,
      this.policies,
      this.clusterPolicies,
      this.namespaces,
      this.pods,
      ...this.children.values(),
    ] as InformerGroup<KubeObject>[];
  }

  hasSynced(): boolean {
    return this.#groups.every((g) => g.hasSynced());
  }

  /** Start informers, wait for the caches, then start the workers and the periodic resync. */
  async start(): Promise<void> {
    if (this.#running) return;
    this.#running = true;
    for (const g of this.#groups) g.start();
    await Promise.all(this.#groups.map((g) => g.synced()));
    if (!this.#running) return;
    this.#deps.log.info(
      { servers: this.servers.store.size, policies: this.policies.store.size },
      'caches synced; starting workers',
    );
    this.serverController.start();
    this.policyController.start();
    this.clusterPolicyController.start();
    if (this.#deps.resyncSeconds > 0) {
      this.#resyncTimer = setInterval(() => this.resync(), this.#deps.resyncSeconds * 1000);
      this.#resyncTimer.unref();
    }
  }

  /** Queue every server and policy, as after a restart; an unchanged cluster makes no writes. */
  resync(): void {
    for (const s of this.servers.store.list())
      this.serverController.queue.add(`${s.metadata.namespace}/${s.metadata.name}`);
    for (const p of this.policies.store.list())
      this.policyController.queue.add(`${p.metadata.namespace}/${p.metadata.name}`);
    for (const p of this.clusterPolicies.store.list())
      this.clusterPolicyController.queue.add(p.metadata.name);
  }

  /** Stop taking work, finish the reconciles in flight, stop watching. */
  async stop(): Promise<void> {
    if (!this.#running) return;
    this.#running = false;
    clearInterval(this.#resyncTimer);
    await Promise.all([
      this.serverController.stop(),
      this.policyController.stop(),
      this.clusterPolicyController.stop(),
    ]);
    await Promise.all(this.#groups.map((g) => g.stop()));
  }
}
