import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';

// Every metric the operator exports, named in one place. A registry per operator instance (not
// prom-client's global one), so tests can run several operators in one process.

export type ReconcileResult = 'success' | 'error' | 'requeue';

/** One McpServer as the metrics see it: where it is, its status phase and the pods it asks for. */
export interface ServerState {
  readonly namespace: string;
  readonly name: string;
  readonly phase: string;
  readonly replicas: number;
}

export interface OperatorMetrics {
  readonly registry: Registry;
  readonly reconciles: Counter<'kind' | 'result'>;
  readonly reconcileErrors: Counter<'kind' | 'code'>;
  readonly reconcileDuration: Histogram<'kind'>;
  readonly queueDepth: Gauge<'kind'>;
  readonly serversByPhase: Gauge<'phase'>;
  readonly serverReady: Gauge<'server_namespace' | 'server'>;
  readonly serverReplicas: Gauge<'server_namespace' | 'server'>;
  readonly apiWrites: Counter<'verb' | 'resource'>;
  readonly apiRequestDuration: Histogram<'method' | 'resource'>;
  readonly apiRequests: Counter<'method' | 'resource' | 'code'>;
  readonly leader: Gauge;
  /** Set by the operator: the McpServers in its cache (none until it leads), read when Prometheus scrapes. */
  servers: (() => Iterable<ServerState>) | undefined;
}

export function createMetrics(): OperatorMetrics {
  const registry = new Registry();
  const registers = [registry];
  const metrics: OperatorMetrics = {
    servers: undefined,
    registry,
    reconciles: new Counter({
      name: 'portcullis_operator_reconciles_total',
      help: 'Reconciles by kind and result (success, error, requeue).',
      labelNames: ['kind', 'result'],
      registers,
    }),
    reconcileErrors: new Counter({
      name: 'portcullis_operator_reconcile_errors_total',
      help: 'Failed reconciles by kind and error code.',
      labelNames: ['kind', 'code'],
      registers,
    }),
    reconcileDuration: new Histogram({
      name: 'portcullis_operator_reconcile_duration_seconds',
      help: 'Time one reconcile took.',
      labelNames: ['kind'],
      buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers,
    }),
    queueDepth: new Gauge({
      name: 'portcullis_operator_workqueue_depth',
      help: 'Keys waiting in the work queue.',
      labelNames: ['kind'],
      registers,
    }),
    serversByPhase: new Gauge({
      name: 'portcullis_operator_mcpservers',
      help: 'McpServers by status phase.',
      labelNames: ['phase'],
      registers,
      // Counted at scrape time from the cache, not on every event.
      collect() {
        this.reset();
        const counts = new Map<string, number>();
        for (const s of metrics.servers?.() ?? []) counts.set(s.phase, (counts.get(s.phase) ?? 0) + 1);
        for (const [phase, n] of counts) this.set({ phase }, n);
      },
    }),
    serverReady: new Gauge({
      // One series per McpServer (bounded by the objects in the cluster, as in kube-state-metrics), so
      // that an alert names the server that stays not Ready. `namespace` would clash with the scrape
      // target's own label, hence server_namespace.
      name: 'portcullis_operator_mcpserver_ready',
      help: '1 if the McpServer is Ready (status phase), else 0; one series per McpServer.',
      labelNames: ['server_namespace', 'server'],
      registers,
      collect() {
        this.reset();
        for (const s of metrics.servers?.() ?? [])
          this.set({ server_namespace: s.namespace, server: s.name }, s.phase === 'Ready' ? 1 : 0);
      },
    }),
    serverReplicas: new Gauge({
      // Compared with the sidecars that answer Prometheus, it finds pods that are down or gone.
      name: 'portcullis_operator_mcpserver_replicas',
      help: 'Pods the McpServer asks for (spec.hosted.replicas); one series per McpServer.',
      labelNames: ['server_namespace', 'server'],
      registers,
      collect() {
        this.reset();
        for (const s of metrics.servers?.() ?? [])
          this.set({ server_namespace: s.namespace, server: s.name }, s.replicas);
      },
    }),
    apiWrites: new Counter({
      name: 'portcullis_operator_api_writes_total',
      help: 'Write requests sent to the API server, by verb and resource.',
      labelNames: ['verb', 'resource'],
      registers,
    }),
    apiRequestDuration: new Histogram({
      name: 'portcullis_operator_api_request_duration_seconds',
      help: 'Time API server requests took, by HTTP method and resource.',
      labelNames: ['method', 'resource'],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers,
    }),
    apiRequests: new Counter({
      name: 'portcullis_operator_api_requests_total',
      help: 'Requests to the API server by HTTP method, resource and status code (<error> when no answer came).',
      labelNames: ['method', 'resource', 'code'],
      registers,
    }),
    leader: new Gauge({
      name: 'portcullis_operator_leader',
      help: '1 while this replica holds the leader lease.',
      registers,
    }),
  };
  // Process metrics (memory, CPU, event-loop lag, GC) under the same prefix.
  collectDefaultMetrics({ register: registry, prefix: 'portcullis_operator_' });
  return metrics;
}
