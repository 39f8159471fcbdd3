import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';

// Every metric the operator exports, named in one place. A registry per operator instance (not
// prom-client's global one), so tests can run several operators in one process.

export type ReconcileResult = 'success' | 'error' | 'requeue';

export interface OperatorMetrics {
  readonly registry: Registry;
  readonly reconciles: Counter<'kind' | 'result'>;
  readonly reconcileErrors: Counter<'kind' | 'code'>;
  readonly reconcileDuration: Histogram<'kind'>;
  readonly queueDepth: Gauge<'kind'>;
  readonly serversByPhase: Gauge<'phase'>;
  readonly apiWrites: Counter<'verb' | 'resource'>;
  readonly apiRequestDuration: Histogram<'method' | 'resource'>;
  readonly leader: Gauge;
  /** Set by the operator while it leads: counts servers by phase when Prometheus scrapes. */
  phaseCounts: (() => ReadonlyMap<string, number>) | undefined;
}

export function createMetrics(): OperatorMetrics {
  const registry = new Registry();
  const registers = [registry];
  const metrics: OperatorMetrics = {
    phaseCounts: undefined,
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
        for (const [phase, n] of metrics.phaseCounts?.() ?? []) this.set({ phase }, n);
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
