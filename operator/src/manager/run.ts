import type { Logger } from 'pino';
import { type HealthServer, startHealthServer } from '../health/server.ts';
import { KubeClient } from '../kube/client.ts';
import { loadConnection } from '../kube/connection.ts';
import { LeaderElector } from '../leader/elector.ts';
import { createMetrics, type OperatorMetrics } from '../metrics/metrics.ts';
import { Operator } from './operator.ts';
import type { OperatorOptions } from './options.ts';

// One operator replica: health server, leader election, and the operator proper while leading.
// Shutdown order matters: stop taking work and finish in-flight reconciles while still holding the
// lease, then release it (the next leader starts at once), then close the health port.

export interface RunningOperator {
  readonly operator: Operator;
  readonly metrics: OperatorMetrics;
  readonly client: KubeClient;
  readonly health: HealthServer;
  leading(): boolean;
  stop(): Promise<void>;
}

export interface RunHooks {
  log: Logger;
  /** Leadership was lost (lease not renewed in time): the replica must not keep working. */
  onLostLeadership?: () => void;
  /** The operator could not start (e.g. caches never synced because RBAC forbids the list). */
  onFatal?: (err: unknown) => void;
}

export async function runOperator(options: OperatorOptions, hooks: RunHooks): Promise<RunningOperator> {
  const { log } = hooks;
  const metrics = createMetrics();
  const client = new KubeClient(await loadConnection(options.kubeconfig), {
    onWrite: (verb, r) => metrics.apiWrites.inc({ verb, resource: r.plural }),
    onResponse: (method, r, seconds, code) => {
      metrics.apiRequestDuration.observe({ method, resource: r.plural }, seconds);
      metrics.apiRequests.inc({ method, resource: r.plural, code });
    },
  });
  const operator = new Operator({
    client,
    defaults: options.defaults,
    namespaces: options.namespaces,
    identity: options.identity,
    workers: options.workers,
    resyncSeconds: options.resyncSeconds,
    log,
    metrics,
  });
  const startOperator = () => {
    operator.start().catch((err: unknown) => {
      log.error({ err }, 'operator failed to start');
      hooks.onFatal?.(err);
    });
  };

  let elector: LeaderElector | undefined;
  if (options.leaderElection.enabled) {
    elector = new LeaderElector({
      client,
      namespace: options.leaderElection.namespace,
      name: options.leaderElection.name,
      identity: options.identity,
      leaseDurationSeconds: options.leaderElection.leaseDurationSeconds,
      renewDeadlineMs: Math.max(1000, options.leaderElection.leaseDurationSeconds * 666),
      retryPeriodMs: Math.max(500, options.leaderElection.leaseDurationSeconds * 133),
      log: log.child({ component: 'leader' }),
      onStartedLeading: () => {
        metrics.leader.set(1);
        startOperator();
      },
      onStoppedLeading: () => {
        metrics.leader.set(0);
        operator.stop().finally(() => hooks.onLostLeadership?.());
      },
    });
  }

  const leading = () => (elector ? elector.leading : true);
  const health = await startHealthServer(
    options.health.host,
    options.health.port,
    {
      live: () => true,
      ready: () => {
        if (!leading()) return { ok: true, reason: 'standby: waiting for the leader lease' };
        return operator.hasSynced()
          ? { ok: true, reason: 'leading; caches synced' }
          : { ok: false, reason: 'leading; caches not synced yet' };
      },
      leading,
    },
    metrics.registry,
  );

  if (elector) elector.start();
  else {
    metrics.leader.set(1);
    startOperator();
  }
  log.info(
    {
      identity: options.identity,
      namespaces: options.namespaces ?? 'all',
      leaderElection: options.leaderElection.enabled,
      healthPort: health.port,
    },
    'operator started',
  );

  let stopping: Promise<void> | undefined;
  return {
    operator,
    metrics,
    client,
    health,
    leading,
    stop: () => {
      stopping ??= (async () => {
        await operator.stop();
        await elector?.stop();
        await health.close();
        await client.connection.close();
        log.info('operator stopped');
      })();
      return stopping;
    },
  };
}
