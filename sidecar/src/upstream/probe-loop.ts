import type { Logger } from 'pino';
import type { UpstreamProbe } from '../contract/upstream-probe.ts';
import { type ProbeResult, type ProbeTarget, probeUpstream } from './probe.ts';
import type { StatusReporter, UpstreamReport } from './status-report.ts';

// The upstream probe at an interval: each result goes to metrics; a result that differs from the
// last one reported (or follows a failed write) is written into the McpServer status. Writes only
// on change, so a thousand healthy gateways cost the API server nothing between changes. Behind
// per-caller credentials the probe's own session is refused, so the serverInfo a caller's
// initialize brought back stands in for it.

export interface ProbeLoopDeps {
  /** Target of the next probe, from the configuration in force (reloads change URL, TLS, headers). */
  readonly target: () => Promise<ProbeTarget>;
  readonly onResult: (result: ProbeResult) => void;
  readonly report?: StatusReporter | undefined;
  readonly pod?: string | undefined;
  readonly logger?: Logger | undefined;
  readonly now?: () => Date;
  readonly probe?: (target: ProbeTarget) => Promise<ProbeResult>;
}

export interface ProbeLoop {
  /** Probes now (and reports); resolves when done. One at a time. */
  run(): Promise<void>;
  /** An initialize result the upstream sent a caller (its serverInfo and protocol revision). */
  observeInitialize(result: unknown): void;
  close(): void;
}

const sameReport = (a: UpstreamReport | undefined, b: UpstreamReport) =>
  a !== undefined &&
  JSON.stringify({ ...a, probeTime: undefined }) === JSON.stringify({ ...b, probeTime: undefined });

type Observed = Pick<ProbeResult, 'serverInfo' | 'protocolVersion'>;

/** Pure: serverInfo and protocolVersion of an initialize result, when it has them as strings. */
export function initializeFacts(result: unknown): Observed | undefined {
  const r = result as {
    serverInfo?: { name?: unknown; version?: unknown };
    protocolVersion?: unknown;
  } | null;
  const name = r?.serverInfo?.name;
  if (typeof name !== 'string' || name === '') return undefined;
  const version = r?.serverInfo?.version;
  return {
    serverInfo: { name, ...(typeof version === 'string' ? { version } : {}) },
    ...(typeof r?.protocolVersion === 'string' ? { protocolVersion: r.protocolVersion } : {}),
  };
}

/** Pure: a reachable result without serverInfo completed with what a caller's session learned. */
export function withObserved(result: ProbeResult, observed: Observed | undefined): ProbeResult {
  if (!result.reachable || result.serverInfo !== undefined) return result;
  const why = result.message === undefined ? '' : `${result.message}; `;
  if (observed === undefined)
    return { ...result, message: `${why}serverInfo is unknown until a caller's session starts` };
  return {
    ...result,
    ...observed,
    message: `${why}serverInfo as the upstream answered a caller's initialize`,
  };
}

export function startProbeLoop(settings: UpstreamProbe, deps: ProbeLoopDeps): ProbeLoop {
  const probe = deps.probe ?? probeUpstream;
  const now = deps.now ?? (() => new Date());
  let reported: UpstreamReport | undefined;
  let observed: Observed | undefined;
  let running: Promise<void> | undefined;
  let closed = false;

  const once = async () => {
    const target = await deps.target();
    const result = withObserved(await probe(target), observed);
    if (closed) return;
    deps.onResult(result);
    const report: UpstreamReport = {
      url: target.url,
      ...result,
      ...(deps.pod ? { pod: deps.pod } : {}),
      probeTime: `${now().toISOString().slice(0, 19)}Z`,
    };
    if (deps.report === undefined || sameReport(reported, report)) return;
    try {
      await deps.report(report);
      reported = report;
    } catch (err) {
      // Tried again at the next probe: `reported` still holds the last report that was written.
      deps.logger?.warn(
        { err: (err as Error).message },
        'upstream probe result not written to McpServer status',
      );
    }
  };
  const run = () => {
    running ??= once()
      .catch((err: Error) => deps.logger?.warn({ err: err.message }, 'upstream probe failed'))
      .finally(() => {
        running = undefined;
      });
    return running;
  };
  const timer = setInterval(() => void run(), settings.intervalMs);
  timer.unref();
  void run();
  return {
    run,
    observeInitialize(initialize) {
      const facts = initializeFacts(initialize);
      if (facts === undefined || JSON.stringify(facts) === JSON.stringify(observed)) return;
      observed = facts;
      // Only a report that lacks serverInfo changes; the next probe would do, this is sooner.
      if (reported?.reachable && reported.serverInfo === undefined) void run();
    },
    close() {
      closed = true;
      clearInterval(timer);
    },
  };
}
