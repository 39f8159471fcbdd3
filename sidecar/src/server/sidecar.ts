import { readFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { hostname } from 'node:os';
import type { Logger } from 'pino';
import { Registry } from 'prom-client';
import { type Auditor, createAuditor } from '../audit/auditor.ts';
import { createAuditRecorder } from '../audit/recorder.ts';
import { type ConfigResult, type EffectiveConfig, formatIssues } from '../config/load.ts';
import { type ConfigWatcher, watchConfigFile } from '../config/watch.ts';
import type { PinStore } from '../pinning/book.ts';
import { startPinning } from '../pinning/runtime.ts';
import { fanOut, type Recorder } from '../pipeline/record.ts';
import { SessionBindings } from '../pipeline/sessions.ts';
import { createRuleLabels, createToolLabels, RULE_LABEL_LIMIT } from '../telemetry/labels.ts';
import { createSidecarMetrics, type SidecarMetrics } from '../telemetry/metrics.ts';
import { createMetricsRecorder } from '../telemetry/metrics-recorder.ts';
import { createMcpTracing, sdkInstalled } from '../telemetry/tracing.ts';
import { createParamHeaderCatalog } from '../transport/param-headers.ts';
import { type CredentialSource, createCredentialSource } from '../upstream/credentials/index.ts';
import { resolveInjectedHeaders } from '../upstream/headers.ts';
import { createUpstreamClient, type UpstreamClient } from '../upstream/http.ts';
import { type StdioBridge, startStdioBridge } from '../upstream/stdio-bridge.ts';
import { createAdminApp } from './admin.ts';
import { createApp, type RuntimeHolder } from './app.ts';
import { trackInflightCalls } from './inflight.ts';
import { buildRuntime, toolNames } from './runtime.ts';

// Assembles a running sidecar from a validated configuration: upstream (HTTP pool, or a stdio
// bridge), runtime, the MCP server, the admin server, and the config watcher that swaps runtimes.

export interface SidecarOptions {
  readonly config: EffectiveConfig;
  readonly digest?: string;
  readonly configFile?: string;
  readonly logger?: Logger;
  /** Where pins trusted on first use are kept, instead of the configured store (the cluster's; tests). */
  readonly pinStore?: PinStore;
  /** An extra observer of every record (tests, embedding), after audit and metrics. */
  readonly recorder?: Recorder;
  /** 'off' only for tests that assert on records themselves; the default audits per config. */
  readonly audit?: 'config' | 'off';
  readonly registry?: Registry;
  readonly env?: Readonly<Record<string, string | undefined>>;
  readonly fetch?: typeof fetch;
  /** Listen on this port instead of the configured one (0: any free port, for tests). */
  readonly portOverride?: number;
  readonly adminPortOverride?: number;
}

export interface RunningSidecar {
  /** Base URL of the MCP endpoint, e.g. http://127.0.0.1:8080/mcp (or the legacy /sse). */
  readonly url: string;
  readonly origin: string;
  readonly adminUrl: string;
  readonly metrics: SidecarMetrics;
  /** Applies a new configuration result; false (and the old runtime stays) when it is refused. */
  reload(result: ConfigResult): boolean;
  close(): Promise<void>;
}

/** How long SIGTERM waits for calls in flight: within the pod's 30 s grace, after its 5 s preStop delay. */
const DRAIN_MS = 20_000;

const SILENT = { info() {}, warn() {}, error() {} };

/** Tool names worth a metric label: the literal (non-glob) tool names of the rules. */
function knownTools(config: EffectiveConfig): string[] {
  return config.authorization.rules.flatMap((r) => (r.tools ?? []).filter((t) => !/[*?]/.test(t)));
}

export async function startSidecar(opts: SidecarOptions): Promise<RunningSidecar> {
  const { config, logger } = opts;
  const env = opts.env ?? process.env;
  const registry = opts.registry ?? new Registry();
  const metrics = createSidecarMetrics(registry);
  const sessionLabels = { server: config.server.name };
  let bridge: StdioBridge | undefined;
  const sessions = new SessionBindings({
    onSizeChange: (n) => metrics.activeSessions.set(sessionLabels, n),
    onForget: (id) => bridge?.endSession(id, 'session_expired'),
  });
  metrics.activeSessions.set(sessionLabels, 0);
  metrics.info.set(sessionLabels, 1);
  // Both results from the start, so that rates and alerts see the first reload as a change.
  for (const result of ['success', 'failure']) metrics.configReloads.inc({ result }, 0);
  const instanceId = process.env.POD_NAME ?? `${hostname()}-${process.pid}-${Date.now()}`;
  const toolLabels = createToolLabels({
    limit: config.telemetry?.metrics?.toolLabelLimit ?? 100,
    known: knownTools(config),
  });
  const ruleLabels = createRuleLabels({ limit: RULE_LABEL_LIMIT, known: config.authorization.rules });
  const recorders: Recorder[] = [];
  let auditor: Auditor | undefined;
  if (opts.audit !== 'off') {
    // Audit destinations are cluster-owned: fixed at start, not changed by a reload.
    auditor = createAuditor(config.audit ?? {}, { logger: logger ?? SILENT, metrics, instanceId });
    recorders.push(createAuditRecorder(auditor, { server: config.server, logger: logger ?? SILENT }));
  }
  recorders.push(
    createMetricsRecorder(metrics, { server: config.server.name, tools: toolLabels, rules: ruleLabels }),
  );
  if (opts.recorder) recorders.push(opts.recorder);
  const recorder = fanOut(recorders);

  let upstreamUrl = config.upstream.url;
  if (config.upstream.transport === 'stdio') {
    bridge = await startStdioBridge(config.upstream, {
      logger,
      metrics,
      server: config.server.name,
      onSessionEnd: (id) => sessions.remove(id),
    });
    upstreamUrl = bridge.url;
  }
  const newUpstream = (url: string, cfg: EffectiveConfig): UpstreamClient =>
    createUpstreamClient({
      url,
      connectTimeoutMs: cfg.upstream.connectTimeoutMs,
      requestTimeoutMs: cfg.upstream.requestTimeoutMs,
      ...(cfg.upstream.tls ? { tls: upstreamTls(cfg.upstream.tls) } : {}),
      breaker: cfg.upstream.circuitBreaker,
    });
  let upstream = newUpstream(upstreamUrl as string, config);
  const newCredentials = (cfg: EffectiveConfig): CredentialSource | undefined =>
    cfg.upstream.auth === undefined
      ? undefined
      : createCredentialSource(cfg.upstream.auth, {
          ...(opts.fetch ? { fetch: opts.fetch } : {}),
          onFileError: (err) =>
            logger?.error({ err }, 'upstream credential file refused, keeping the last good one'),
          onResult: (mode, result) =>
            metrics.upstreamCredentials.inc({ server: config.server.name, mode, result }),
        });
  let credentials = newCredentials(config);

  const paramHeaders = createParamHeaderCatalog();
  const onToolList = (result: unknown) => {
    toolLabels.observe(toolNames(result));
    paramHeaders.learn(result);
  };
  // main.ts starts the SDK first; without one, spans would cost CPU on every call and record nothing.
  const tracing = sdkInstalled() ? createMcpTracing() : undefined;
  const ownUpstreamHeaders = bridge?.headers;
  const pinning =
    config.pinning === undefined || config.pinning.mode === 'Off'
      ? undefined
      : await startPinning(config.pinning, {
          server: config.server,
          upstreamUrl: upstreamUrl as string,
          upstreamHeaders: { ...resolveInjectedHeaders(config, env), ...ownUpstreamHeaders },
          metrics,
          logger,
          audit: auditor === undefined ? undefined : (input) => auditor.record(input),
          store: opts.pinStore,
          firstReadMs: config.upstream.connectTimeoutMs,
        });
  const built = buildRuntime(config, {
    sessions,
    paramHeaders,
    recorder,
    upstream,
    env,
    fetch: opts.fetch,
    logger,
    onToolList,
    tracing,
    ownUpstreamHeaders,
    credentials,
    pins: pinning?.book,
  });
  void built.authenticator.warm();
  const holder: RuntimeHolder = { runtime: built.runtime, authenticator: built.authenticator };
  let ready = false;
  let closing: Promise<void> | undefined;

  const app = createApp({ holder });
  const inflight = trackInflightCalls(app.server);
  // Through the launcher, the MCP server's container must be up too: no socket, no session.
  const admin = createAdminApp({ registry, ready: () => ready && (bridge?.ready ?? true) });
  try {
    await app.listen({ host: config.listen.host, port: opts.portOverride ?? config.listen.port });
    await admin.listen({ host: config.admin.host, port: opts.adminPortOverride ?? config.admin.port });
  } catch (err) {
    // A port in use must not leave the stdio servers (the warm pool) running.
    credentials?.close();
    await Promise.allSettled([
      app.close(),
      admin.close(),
      upstream.close(),
      bridge?.close(),
      pinning?.close(),
    ]);
    throw err;
  }
  ready = true;
  // Idle sessions are otherwise only noticed when reused; the sweep keeps the gauge honest.
  const sweeper = setInterval(() => sessions.sweep(), Math.min(sessions.idleMs, 60_000));
  sweeper.unref();

  const reload = (result: ConfigResult): boolean => {
    if (!result.ok) {
      metrics.configReloads.inc({ result: 'failure' });
      metrics.configLastReloadSuccess.set(0);
      logger?.error(
        { issues: result.issues },
        `configuration refused, keeping the last good one: ${formatIssues(result.issues)}`,
      );
      return false;
    }
    const next = result.config;
    const old = holder.runtime.config;
    const stdioOf = (c: EffectiveConfig) => {
      const { command, args, env, processes } = c.upstream;
      return JSON.stringify({ command, args, env, processes });
    };
    if (
      next.listen.port !== old.listen.port ||
      next.listen.path !== old.listen.path ||
      next.upstream.transport !== old.upstream.transport ||
      stdioOf(next) !== stdioOf(old)
    ) {
      logger?.warn(
        'listen, upstream.transport and the stdio command and processes take effect at the next restart',
      );
    }
    let pendingCredentials: CredentialSource | undefined;
    try {
      const sameUpstream =
        bridge !== undefined ||
        (next.upstream.url === old.upstream.url &&
          next.upstream.connectTimeoutMs === old.upstream.connectTimeoutMs &&
          next.upstream.requestTimeoutMs === old.upstream.requestTimeoutMs &&
          JSON.stringify(next.upstream.tls) === JSON.stringify(old.upstream.tls) &&
          JSON.stringify(next.upstream.circuitBreaker) === JSON.stringify(old.upstream.circuitBreaker));
      const nextUpstream = sameUpstream ? upstream : newUpstream(next.upstream.url as string, next);
      // An unchanged upstream.auth keeps its source, and with it the cached tokens.
      const sameCredentials = JSON.stringify(next.upstream.auth) === JSON.stringify(old.upstream.auth);
      const nextCredentials = sameCredentials ? credentials : newCredentials(next);
      if (!sameCredentials) pendingCredentials = nextCredentials;
      const rebuilt = buildRuntime(next, {
        sessions,
        paramHeaders,
        recorder,
        upstream: nextUpstream,
        env,
        fetch: opts.fetch,
        logger,
        onToolList,
        tracing,
        ownUpstreamHeaders,
        credentials: nextCredentials,
        pins: pinning?.book,
      });
      if (pinning !== undefined) pinning.reconfigure(next.pinning ?? { mode: 'Off' });
      else if (next.pinning !== undefined && next.pinning.mode !== 'Off')
        logger?.warn('pinning switched on takes effect at the next restart');
      ruleLabels.observe(next.authorization.rules);
      toolLabels.observe(knownTools(next));
      const previous = holder.authenticator;
      const previousUpstream = upstream;
      holder.runtime = rebuilt.runtime;
      holder.authenticator = rebuilt.authenticator;
      void rebuilt.authenticator.warm();
      previous.close();
      if (!sameCredentials) {
        credentials?.close();
        credentials = nextCredentials;
      }
      if (!sameUpstream) {
        upstream = nextUpstream;
        // in-flight streams on the old pool finish; new requests use the new one
        void previousUpstream.close().catch(() => {});
      }
    } catch (err) {
      pendingCredentials?.close();
      metrics.configReloads.inc({ result: 'failure' });
      metrics.configLastReloadSuccess.set(0);
      logger?.error({ err }, `configuration refused, keeping the last good one: ${(err as Error).message}`);
      return false;
    }
    metrics.configReloads.inc({ result: 'success' });
    metrics.configLastReloadSuccess.set(1);
    metrics.configLastReloadSuccessTimestamp.set(Date.now() / 1000);
    logger?.info({ digest: result.digest }, 'configuration reloaded');
    return true;
  };
  metrics.configLastReloadSuccess.set(1);
  metrics.configLastReloadSuccessTimestamp.set(Date.now() / 1000);

  let watcher: ConfigWatcher | undefined;
  if (opts.configFile !== undefined) {
    watcher = watchConfigFile(opts.configFile, {
      initialDigest: opts.digest ?? '',
      onResult: reload,
      onError: (err) => logger?.error({ err }, 'configuration watch failed'),
    });
  }

  const address = app.server.address() as AddressInfo;
  const adminAddress = admin.server.address() as AddressInfo;
  const host = config.listen.host === '0.0.0.0' ? '127.0.0.1' : config.listen.host;
  const origin = `http://${host.includes(':') ? `[${host}]` : host}:${address.port}`;
  const path = config.upstream.transport === 'sse' ? '/sse' : config.listen.path;
  return {
    url: `${origin}${path}`,
    origin,
    adminUrl: `http://127.0.0.1:${adminAddress.port}`,
    metrics,
    reload,
    close() {
      closing ??= shutdown();
      return closing;
    },
  };

  async function shutdown(): Promise<void> {
    ready = false;
    clearInterval(sweeper);
    watcher?.close();
    // Calls already admitted finish (and are audited) before connections close; by now Kubernetes
    // has taken the pod out of its Service (the rendered preStop delay), so few new ones arrive.
    if (inflight.size > 0) {
      logger?.info({ inflight: inflight.size }, 'draining calls in flight');
      if (!(await inflight.drained(DRAIN_MS))) {
        logger?.warn(
          { inflight: inflight.size, drainMs: DRAIN_MS },
          'calls still in flight after the drain; closing',
        );
      }
    }
    await app.close();
    await admin.close();
    await pinning?.close();
    holder.authenticator.close();
    credentials?.close();
    await upstream.close().catch(() => {});
    await bridge?.close();
    await auditor?.close();
  }
}

/** The upstream's TLS settings with the CA bundle read (at start-up or reload: a bad path refuses the configuration). */
function upstreamTls(tls: NonNullable<EffectiveConfig['upstream']['tls']>): {
  ca?: string;
  serverName?: string;
} {
  return {
    ...(tls.caFile !== undefined ? { ca: readFileSync(tls.caFile, 'utf8') } : {}),
    ...(tls.serverName !== undefined ? { serverName: tls.serverName } : {}),
  };
}
