import type { AddressInfo } from 'node:net';
import { hostname } from 'node:os';
import type { Logger } from 'pino';
import { Registry } from 'prom-client';
import { type Auditor, createAuditor } from '../audit/auditor.ts';
import { createAuditRecorder } from '../audit/recorder.ts';
import { createSinks } from '../audit/sinks/index.ts';
import type { ConfigResult, EffectiveConfig } from '../config/load.ts';
import type { PinStore } from '../pinning/book.ts';
import { ownHeaders } from '../pinning/own-headers.ts';
import { SessionBindings } from '../pipeline/sessions.ts';
import type { RateLimitState } from '../ratelimit/limiter.ts';
import { fanOut, type Recorder } from '../record/mcp-record.ts';
import { createRuleLabels, createToolLabels, RULE_LABEL_LIMIT } from '../telemetry/labels.ts';
import { createSidecarMetrics, type SidecarMetrics } from '../telemetry/metrics.ts';
import { createMetricsRecorder } from '../telemetry/metrics-recorder.ts';
import { sdkInstalled } from '../telemetry/sdk.ts';
import { createParamHeaderCatalog } from '../transport/param-headers.ts';
import { type CredentialSource, createCredentialSource } from '../upstream/credentials/index.ts';
import { resolveInjectedHeaders } from '../upstream/headers.ts';
import { createUpstreamClient, type UpstreamClient } from '../upstream/http.ts';
import type { ProbeLoop } from '../upstream/probe-loop.ts';
import type { StdioBridge } from '../upstream/stdio-bridge.ts';
import { tlsFetch } from '../upstream/tls-fetch.ts';
import { createAdminApp } from './admin.ts';
import { createApp, type RuntimeHolder } from './app.ts';
import { createReload, watchAndReload } from './hot-reload.ts';
import { trackInflightCalls } from './inflight.ts';
import { buildRuntime, toolNames } from './runtime.ts';

// Assembles a running sidecar from a validated configuration: upstream (HTTP pool, or a stdio
// bridge), runtime, the MCP server, the admin server, and hot reload (hot-reload.ts) that swaps runtimes.

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
    auditor = createAuditor(config.audit ?? {}, {
      logger: logger ?? SILENT,
      metrics,
      instanceId,
      sinks: createSinks(config.audit?.sinks, { instance: instanceId }),
    });
    recorders.push(createAuditRecorder(auditor, { server: config.server, logger: logger ?? SILENT }));
  }
  recorders.push(
    createMetricsRecorder(metrics, { server: config.server.name, tools: toolLabels, rules: ruleLabels }),
  );
  if (opts.recorder) recorders.push(opts.recorder);
  const recorder = fanOut(recorders);

  let upstreamUrl = config.upstream.url;
  // The stdio bridge and pinning bring the MCP SDK and the Kubernetes client (most of an idle
  // sidecar's memory): loaded only when the configuration uses them.
  if (config.upstream.transport === 'stdio') {
    const { startStdioBridge } = await import('../upstream/stdio-bridge.ts');
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
      ...(cfg.upstream.tls ? { tls: cfg.upstream.tls } : {}),
      breaker: cfg.upstream.circuitBreaker,
      onCaReload: (err) =>
        err === undefined
          ? logger?.info({ caFile: cfg.upstream.tls?.caFile }, 'upstream CA bundle reloaded')
          : logger?.error({ err }, 'upstream CA bundle refused, keeping the last good one'),
    });
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
  const upstream = newUpstream(upstreamUrl as string, config);
  const credentials = newCredentials(config);

  const paramHeaders = createParamHeaderCatalog();
  const onToolList = (result: unknown) => {
    toolLabels.observe(toolNames(result));
    paramHeaders.learn(result);
  };
  // main.ts starts the SDK first; without one, spans would cost CPU on every call and record nothing,
  // and the tracing module (with the W3C propagator's package) is not even loaded.
  const tracing = sdkInstalled() ? (await import('../telemetry/tracing.ts')).createMcpTracing() : undefined;
  const ownUpstreamHeaders = bridge?.headers;
  const pinningFetch =
    config.upstream.tls === undefined
      ? undefined
      : tlsFetch(config.upstream.tls, config.upstream.connectTimeoutMs);
  const pinning =
    config.pinning === undefined || config.pinning.mode === 'Off'
      ? undefined
      : await (await import('../pinning/runtime.ts')).startPinning(config.pinning, {
          server: config.server,
          upstreamUrl: upstreamUrl as string,
          // A stdio server is reached through the bridge, which speaks Streamable HTTP.
          upstreamTransport: config.upstream.transport === 'sse' ? 'sse' : 'streamable-http',
          upstreamHeaders: ownHeaders(
            { ...resolveInjectedHeaders(config, env), ...ownUpstreamHeaders },
            () => credentials,
          ),
          // An https upstream with a private CA: the pinning session trusts what calls trust.
          ...(pinningFetch ? { upstreamFetch: pinningFetch.fetch } : {}),
          metrics,
          logger,
          audit: auditor === undefined ? undefined : (input) => auditor.record(input),
          store: opts.pinStore,
          firstReadMs: config.upstream.connectTimeoutMs,
        });
  const rateLimits: RateLimitState = new Map();
  let probeLoop: ProbeLoop | undefined;
  const onInitialize =
    config.upstream.probe === undefined
      ? undefined
      : (result: unknown) => probeLoop?.observeInitialize(result);
  const build = (cfg: EffectiveConfig, up: UpstreamClient, creds: CredentialSource | undefined) =>
    buildRuntime(cfg, {
      sessions,
      paramHeaders,
      rateLimits,
      recorder,
      upstream: up,
      env,
      fetch: opts.fetch,
      logger,
      onToolList,
      onInitialize,
      tracing,
      ownUpstreamHeaders,
      credentials: creds,
      pins: pinning?.book,
    });
  const built = build(config, upstream, credentials);
  void built.authenticator.warm();
  const holder: RuntimeHolder = { runtime: built.runtime, authenticator: built.authenticator };
  let ready = false;
  let closing: Promise<void> | undefined;

  const app = createApp({ holder });
  const inflight = trackInflightCalls(app.server);
  // Through the launcher, the MCP server's container must be up too: no socket, no session.
  const admin = createAdminApp({ registry, ready: () => ready && (bridge?.ready ?? true) });
  // Before listening: a report that cannot be set up (no API server address) fails the start cleanly.
  try {
    probeLoop = await startUpstreamProbe(config, holder, { env, metrics, logger });
    await app.listen({ host: config.listen.host, port: opts.portOverride ?? config.listen.port });
    await admin.listen({ host: config.admin.host, port: opts.adminPortOverride ?? config.admin.port });
  } catch (err) {
    // A port in use must not leave the stdio servers (the warm pool) running.
    probeLoop?.close();
    credentials?.close();
    await Promise.allSettled([
      app.close(),
      admin.close(),
      upstream.close(),
      bridge?.close(),
      pinning?.close(),
      pinningFetch?.close(),
    ]);
    throw err;
  }
  ready = true;
  // Idle sessions are otherwise only noticed when reused; the sweep keeps the gauge honest.
  const sweeper = setInterval(() => sessions.sweep(), Math.min(sessions.idleMs, 60_000));
  sweeper.unref();

  const reload = createReload({
    holder,
    build,
    newUpstream: (cfg) => newUpstream(cfg.upstream.url as string, cfg),
    newCredentials,
    stdioBridge: bridge !== undefined,
    pinning,
    followConfig: (cfg) => {
      ruleLabels.observe(cfg.authorization.rules);
      toolLabels.observe(knownTools(cfg));
    },
    metrics,
    logger,
  });
  metrics.configLastReloadSuccess.set(1);
  metrics.configLastReloadSuccessTimestamp.set(Date.now() / 1000);
  const watcher =
    opts.configFile === undefined
      ? undefined
      : watchAndReload(opts.configFile, { digest: opts.digest ?? '', reload, logger });

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
    probeLoop?.close();
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
    await pinningFetch?.close();
    holder.authenticator.close();
    holder.runtime.credentials?.close();
    await holder.runtime.upstream.close().catch(() => {});
    await bridge?.close();
    await auditor?.close();
  }
}

/**
 * upstream.probe of an HTTP upstream, on the configuration in force at each probe. Loaded only when
 * configured: the probe's MCP client and the status reporter's Kubernetes client cost memory.
 */
async function startUpstreamProbe(
  config: EffectiveConfig,
  holder: RuntimeHolder,
  deps: {
    env: Readonly<Record<string, string | undefined>>;
    metrics: SidecarMetrics;
    logger: Logger | undefined;
  },
): Promise<ProbeLoop | undefined> {
  const settings = config.upstream.probe;
  if (settings === undefined || config.upstream.transport === 'stdio') return undefined;
  const server = config.server.name;
  const [{ startProbeLoop }, { mcpServerStatusReporter }] = await Promise.all([
    import('../upstream/probe-loop.ts'),
    import('../upstream/status-report.ts'),
  ]);
  return startProbeLoop(settings, {
    async target() {
      const { config: cfg, credentials, upstreamHeaders } = holder.runtime;
      // The gateway's own credential at most (ownHeaders: never a caller's); if it cannot be had
      // (a token endpoint down), the probe goes with the static headers and says what it gets.
      const headers = await ownHeaders(upstreamHeaders, () => credentials)().catch(() => ({
        ...upstreamHeaders,
      }));
      const tls = cfg.upstream.tls;
      return {
        url: cfg.upstream.url as string,
        transport: cfg.upstream.transport as 'streamable-http' | 'sse',
        ...(tls?.caFile ? { caFile: tls.caFile } : {}),
        ...(tls?.serverName ? { serverName: tls.serverName } : {}),
        headers,
        timeoutMs: settings.timeoutMs,
      };
    },
    onResult: (r) => deps.metrics.upstreamUp.set({ server }, r.reachable ? 1 : 0),
    report: settings.reportStatus
      ? mcpServerStatusReporter({ namespace: config.server.namespace as string, name: server })
      : undefined,
    pod: deps.env.POD_NAME,
    logger: deps.logger,
  });
}
