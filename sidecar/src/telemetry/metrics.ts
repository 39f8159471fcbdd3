import { Counter, collectDefaultMetrics, Gauge, Histogram, type Registry } from 'prom-client';

// Every Prometheus metric of the sidecar, with its labels, in one place (listed in docs/metrics.md).
// Labels are bounded: server (one per sidecar), method and tool through labels.ts, decision, outcome,
// sink and result from closed unions; rule from configuration, capped. Never user ids, session ids, arguments or URIs.

const PREFIX = 'portcullis_sidecar_';

// Sidecar-added latency lives well under a millisecond; upstream calls run to seconds.
const REQUEST_BUCKETS = [
  0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60,
];
// The sidecar's own time per message: a tenth of a millisecond to a few; finer where the p50 lives.
const OWN_BUCKETS = [
  0.00005, 0.0001, 0.00015, 0.0002, 0.0003, 0.0005, 0.00075, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.1, 1,
];

type RequestLabels = 'server' | 'method' | 'tool' | 'outcome';

export interface SidecarMetrics {
  readonly registry: Registry;
  readonly requests: Counter<RequestLabels>;
  readonly requestDuration: Histogram<RequestLabels>;
  readonly upstreamDuration: Histogram<'server' | 'method' | 'tool'>;
  /** Time the sidecar itself spent on a message: its latency less the wait for the upstream. */
  readonly ownDuration: Histogram<'server' | 'method' | 'outcome'>;
  readonly decisions: Counter<'server' | 'method' | 'tool' | 'decision' | 'rule'>;
  readonly authnFailures: Counter<'server' | 'reason'>;
  readonly auditEvents: Counter<'sink' | 'result'>;
  readonly auditQueueDepth: Gauge<'sink'>;
  readonly auditQueueBytes: Gauge<'sink'>;
  /** Reports a sink's queue depth and bytes when scraped (they change on every event; a scrape is rare). */
  auditQueueOf(sink: string, queue: { readonly depth: number; readonly bytes: number }): void;
  readonly auditQueueCapacity: Gauge<'sink'>;
  readonly configReloads: Counter<'result'>;
  readonly configLastReloadSuccess: Gauge;
  readonly configLastReloadSuccessTimestamp: Gauge;
  readonly upstreamErrors: Counter<'server' | 'method'>;
  /** Upstream credentials obtained per mode: issued, cache_hit, resolved, or why none (CredentialResult). */
  readonly upstreamCredentials: Counter<'server' | 'mode' | 'result'>;
  readonly activeSessions: Gauge<'server'>;
  readonly stdioProcesses: Gauge<'server' | 'state'>;
  readonly stdioProcessesStarted: Counter<'server'>;
  readonly stdioProcessesFailed: Counter<'server' | 'phase'>;
  readonly stdioProcessesReclaimed: Counter<'server' | 'reason'>;
  readonly stdioSessionsRefused: Counter<'server'>;
  readonly stdioStartupDuration: Histogram<'server' | 'pool'>;
  /** Pinned definitions (tools, prompts, templates, instructions) by state: pinned, held, observed. */
  readonly definitions: Gauge<'server' | 'kind' | 'state'>;
  /** Definitions newly held (or, in Observe mode, seen drifting), by kind and reason. */
  readonly definitionDrift: Counter<'server' | 'kind' | 'reason' | 'effect'>;
  /** Constant 1 naming the McpServer: joined on `instance` to filter server-less metrics by server. */
  readonly info: Gauge<'server'>;
}

/** States of a stdio server process (the `state` label); together they count against maxProcesses. */
export type StdioProcessState = 'warm' | 'session' | 'stopping';
/** Why the sidecar stopped a stdio server process (the `reason` label). */
export type StdioReclaimReason = 'idle' | 'session_end' | 'session_expired' | 'shutdown';
/** When a stdio server process failed (the `phase` label): before or after it answered a message. */
export type StdioFailurePhase = 'start' | 'running';

// A process start runs from under a second (node) to tens of seconds (npx or uvx fetching a package).
const STARTUP_BUCKETS = [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120];

export function createSidecarMetrics(registry: Registry): SidecarMetrics {
  const registers = [registry];
  const auditQueues = new Map<string, { readonly depth: number; readonly bytes: number }>();
  const metrics: SidecarMetrics = {
    registry,
    requests: new Counter({
      name: `${PREFIX}requests_total`,
      help: 'MCP messages handled, by outcome.',
      labelNames: ['server', 'method', 'tool', 'outcome'],
      registers,
    }),
    requestDuration: new Histogram({
      name: `${PREFIX}request_duration_seconds`,
      help: 'Time from a message arriving to its answer starting, including the upstream call.',
      labelNames: ['server', 'method', 'tool', 'outcome'],
      buckets: REQUEST_BUCKETS,
      registers,
    }),
    upstreamDuration: new Histogram({
      name: `${PREFIX}upstream_duration_seconds`,
      help: 'Time the upstream MCP server took to start answering.',
      labelNames: ['server', 'method', 'tool'],
      buckets: REQUEST_BUCKETS,
      registers,
    }),
    ownDuration: new Histogram({
      name: `${PREFIX}own_duration_seconds`,
      help: 'Time the sidecar itself spent on a message: arrival to the end of its answer, less the time spent waiting for the upstream (to its reply headers, and between the chunks of its reply body).',
      labelNames: ['server', 'method', 'outcome'],
      buckets: OWN_BUCKETS,
      registers,
    }),
    decisions: new Counter({
      name: `${PREFIX}decisions_total`,
      help: 'Authorization decisions, by the rule that made them (policy/rule, default-deny, method-denied).',
      labelNames: ['server', 'method', 'tool', 'decision', 'rule'],
      registers,
    }),
    authnFailures: new Counter({
      name: `${PREFIX}authn_failures_total`,
      help: 'Requests refused by authentication, by reason.',
      labelNames: ['server', 'reason'],
      registers,
    }),
    auditEvents: new Counter({
      name: `${PREFIX}audit_events_total`,
      help: 'Audit events per sink: delivered, retried (counted per attempt), dropped, refused (closed mode).',
      labelNames: ['sink', 'result'],
      registers,
    }),
    auditQueueDepth: new Gauge({
      name: `${PREFIX}audit_queue_depth`,
      help: 'Audit events waiting for delivery, per sink.',
      labelNames: ['sink'],
      registers,
      collect() {
        for (const [sink, queue] of auditQueues) this.set({ sink }, queue.depth);
      },
    }),
    auditQueueBytes: new Gauge({
      name: `${PREFIX}audit_queue_bytes`,
      help: 'Serialised size of the audit events held for delivery (queued or being retried), per sink.',
      labelNames: ['sink'],
      registers,
      collect() {
        for (const [sink, queue] of auditQueues) this.set({ sink }, queue.bytes);
      },
    }),
    auditQueueOf: (sink, queue) => void auditQueues.set(sink, queue),
    auditQueueCapacity: new Gauge({
      name: `${PREFIX}audit_queue_capacity`,
      help: "Audit events a sink's queue holds before it drops (open mode) or refuses calls (closed mode).",
      labelNames: ['sink'],
      registers,
    }),
    configReloads: new Counter({
      name: `${PREFIX}config_reloads_total`,
      help: 'Configuration reload attempts.',
      labelNames: ['result'],
      registers,
    }),
    configLastReloadSuccess: new Gauge({
      name: `${PREFIX}config_last_reload_success`,
      help: '1 if the last configuration reload succeeded, 0 if the last good configuration is still in force.',
      registers,
    }),
    configLastReloadSuccessTimestamp: new Gauge({
      name: `${PREFIX}config_last_reload_success_timestamp_seconds`,
      help: 'Unix time of the last successful configuration load.',
      registers,
    }),
    upstreamErrors: new Counter({
      name: `${PREFIX}upstream_errors_total`,
      help: 'Upstream calls that failed (connect, timeout, invalid reply).',
      labelNames: ['server', 'method'],
      registers,
    }),
    upstreamCredentials: new Counter({
      name: `${PREFIX}upstream_credentials_total`,
      help: 'Upstream credentials per mode (upstream.auth), by result: issued (a token endpoint call), cache_hit, resolved (from a Secret), no_mapping, no_subject_token, refused, unavailable.',
      labelNames: ['server', 'mode', 'result'],
      registers,
    }),
    activeSessions: new Gauge({
      name: `${PREFIX}active_sessions`,
      help: 'MCP sessions open through this sidecar.',
      labelNames: ['server'],
      registers,
    }),
    stdioProcesses: new Gauge({
      name: `${PREFIX}stdio_processes`,
      help: 'Stdio server processes alive, by state (warm, session, stopping); their sum is held under upstream.processes.maxProcesses.',
      labelNames: ['server', 'state'],
      registers,
    }),
    stdioProcessesStarted: new Counter({
      name: `${PREFIX}stdio_processes_started_total`,
      help: 'Stdio server processes started (for a session or the warm pool).',
      labelNames: ['server'],
      registers,
    }),
    stdioProcessesFailed: new Counter({
      name: `${PREFIX}stdio_processes_failed_total`,
      help: 'Stdio server processes that could not start or ended on their own, by phase (start: before their first message).',
      labelNames: ['server', 'phase'],
      registers,
    }),
    stdioProcessesReclaimed: new Counter({
      name: `${PREFIX}stdio_processes_reclaimed_total`,
      help: 'Stdio server processes the sidecar stopped, by reason (idle, session_end, session_expired, shutdown).',
      labelNames: ['server', 'reason'],
      registers,
    }),
    stdioSessionsRefused: new Counter({
      name: `${PREFIX}stdio_sessions_refused_total`,
      help: 'New MCP sessions refused because maxProcesses stdio server processes were alive.',
      labelNames: ['server'],
      registers,
    }),
    definitions: new Gauge({
      name: `${PREFIX}pinned_definitions`,
      help: 'Definitions the server shows, by kind and pin state (pinned, held, observed).',
      labelNames: ['server', 'kind', 'state'],
      registers,
    }),
    definitionDrift: new Counter({
      name: `${PREFIX}definition_drift_total`,
      help: 'Definitions newly held (effect held) or seen drifting in Observe mode (effect observed), by reason.',
      labelNames: ['server', 'kind', 'reason', 'effect'],
      registers,
    }),
    stdioStartupDuration: new Histogram({
      name: `${PREFIX}stdio_startup_duration_seconds`,
      help: 'Time a new session waited for its process to answer initialize: start-up and initialize (pool=cold), or initialize alone (pool=warm).',
      labelNames: ['server', 'pool'],
      buckets: STARTUP_BUCKETS,
      registers,
    }),
    info: new Gauge({
      name: `${PREFIX}info`,
      help: 'Always 1; names the McpServer this sidecar governs.',
      labelNames: ['server'],
      registers,
    }),
  };
  // Process metrics (heap, RSS, CPU, event-loop lag, GC) under the same prefix; read at scrape time.
  collectDefaultMetrics({ register: registry, prefix: PREFIX });
  return metrics;
}
