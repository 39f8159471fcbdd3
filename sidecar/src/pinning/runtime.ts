import type { Logger } from 'pino';
import type { AuditInput } from '../audit/event.ts';
import { DEFAULT_REFRESH_MS, type PinningConfig } from '../contract/pinning.ts';
import type { SidecarMetrics } from '../telemetry/metrics.ts';
import { type DriftEvent, memoryPinStore, PinBook, type PinStore } from './book.ts';
import { configMapPinStore } from './configmap-store.ts';
import { LIST_FIELDS, pinKey } from './definitions.ts';
import { filePinStore } from './store.ts';
import { type PinWatcher, startPinWatcher } from './watch.ts';

// Pinning for one running sidecar: the book, its trust store, the sidecar's own session reading the
// lists, and what a drift produces (one tool.drift audit event, metrics, a log line).

export interface PinningDeps {
  readonly server: AuditInput['server'];
  readonly upstreamUrl: string;
  readonly upstreamHeaders: Readonly<Record<string, string>>;
  readonly metrics: SidecarMetrics;
  readonly logger: Logger | undefined;
  readonly audit: ((input: AuditInput) => Promise<void>) | undefined;
  /** How long the start waits for the first read; a slow server must not keep the sidecar unready. */
  readonly firstReadMs: number;
  /** A store other than the configured one (the cluster's; tests). */
  readonly store?: PinStore;
}

export interface Pinning {
  readonly book: PinBook;
  readonly watcher: PinWatcher;
  /** Applies a reloaded configuration's mode and approvals, and reads the lists again. */
  reconfigure(config: PinningConfig): void;
  close(): Promise<void>;
}

const LIST_OF_KIND: Record<string, string> = Object.fromEntries(
  Object.entries(LIST_FIELDS).map(([method, spec]) => [spec.kind, method]),
);

/** The audit input for one drift: an event of its own, from the server to the sidecar. */
export function driftAuditInput(event: DriftEvent, server: AuditInput['server']): AuditInput {
  const o = event.observation;
  const drift: NonNullable<AuditInput['drift']> = {
    kind: o.kind,
    name: o.name,
    effect: event.effect,
    reason: o.reason ?? 'changed',
    observed: o.digest,
    changes: o.changes ?? [],
  };
  if (o.pinned !== undefined) drift.pinned = o.pinned;
  if (o.suspicious !== undefined) drift.suspicious = o.suspicious;
  const input: AuditInput = {
    type: 'tool.drift',
    outcome: event.effect === 'held' ? 'denied' : 'allowed',
    server,
    source: { address: 'upstream' },
    method: LIST_OF_KIND[o.kind] ?? 'initialize',
    direction: 'server-to-client',
    drift,
    latencyMs: 0,
  };
  if (o.kind === 'tool') {
    input.target = { tool: o.name };
    input.toolDigest = o.digest;
  } else if (o.kind === 'prompt') input.target = { prompt: o.name };
  return input;
}

function configuredStore(config: PinningConfig, server: AuditInput['server']): PinStore {
  const { file, configMap } = config.trustStore ?? {};
  if (file !== undefined) return filePinStore(file);
  if (configMap !== undefined) {
    if (server.namespace === undefined)
      throw new Error('pinning.trustStore.configMap needs server.namespace');
    return configMapPinStore({ namespace: server.namespace, name: configMap });
  }
  return memoryPinStore();
}

export function approvedPins(config: PinningConfig): Map<string, string> {
  return new Map((config.pins ?? []).map((p) => [pinKey(p.kind, p.name ?? ''), p.digest]));
}

export async function startPinning(config: PinningConfig, deps: PinningDeps): Promise<Pinning> {
  const { metrics, logger } = deps;
  const server = deps.server.name;
  const store = deps.store ?? configuredStore(config, deps.server);
  const approved = approvedPins(config);
  const updateGauge = () => {
    metrics.definitions.reset();
    for (const o of book.list()) metrics.definitions.inc({ server, kind: o.kind, state: o.state });
  };
  const book: PinBook = new PinBook({
    mode: config.mode,
    approved,
    store,
    onDrift(event) {
      const o = event.observation;
      updateGauge();
      metrics.definitionDrift.inc({
        server,
        kind: o.kind,
        reason: o.reason ?? 'changed',
        effect: event.effect,
      });
      logger?.warn(
        {
          kind: o.kind,
          name: o.name,
          reason: o.reason,
          pinned: o.pinned,
          observed: o.digest,
          effect: event.effect,
        },
        'definition drift',
      );
      deps.audit?.(driftAuditInput(event, deps.server)).catch((err: Error) => {
        logger?.error({ err }, 'tool.drift audit event not recorded');
      });
    },
    onStoreError(err) {
      logger?.error({ err }, 'trusted pin not stored; the definition will be judged again');
    },
  });
  await book.load();
  // Every series from 0, so that rates and alerts see the first drift as an increase.
  const effect = config.mode === 'Observe' ? 'observed' : 'held';
  for (const kind of ['tool', 'prompt', 'resourceTemplate', 'instructions'])
    for (const reason of ['changed', 'unapproved', 'suspicious'])
      metrics.definitionDrift.inc({ server, kind, reason, effect }, 0);
  const watcher = startPinWatcher({
    url: deps.upstreamUrl,
    headers: deps.upstreamHeaders,
    book,
    intervalMs: config.refreshIntervalMs ?? DEFAULT_REFRESH_MS,
    onRead: updateGauge,
    onError(err) {
      logger?.warn({ err: err.message }, 'pinning: reading the server definitions failed');
    },
  });
  // The first read before the sidecar is ready, so a change made while it was down is held before
  // any call; bounded, as replies are judged anyway and the interval reads again.
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([
    watcher.refresh(),
    new Promise<void>((resolve) => {
      timer = setTimeout(resolve, deps.firstReadMs);
    }),
  ]);
  clearTimeout(timer);
  return {
    book,
    watcher,
    reconfigure(next) {
      book.reconfigure(next.mode, approvedPins(next));
      void watcher.refresh();
    },
    async close() {
      await watcher.close();
    },
  };
}
