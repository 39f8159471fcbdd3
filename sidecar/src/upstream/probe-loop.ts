import type { Logger } from 'pino';
import type { UpstreamProbe } from '../contract/upstream-probe.ts';
import { type ProbeResult, type ProbeTarget, probeUpstream } from './probe.ts';
import type { StatusReporter, UpstreamReport } from './status-report.ts';

// The upstream probe at an interval: each result goes to metrics; a result that differs from the
// last one reported (or follows a failed write) is written into the McpServer status. Writes only
// on change, so a thousand healthy gateways cost the API server nothing between changes.

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
  close(): void;
}

const sameReport = (a: UpstreamReport | undefined, b: UpstreamReport) =>
  a !== undefined &&
  JSON.stringify({ ...a, probeTime: undefined }) === JSON.stringify({ ...b, probeTime: undefined });

export function startProbeLoop(settings: UpstreamProbe, deps: ProbeLoopDeps): ProbeLoop {
  const probe = deps.probe ?? probeUpstream;
  const now = deps.now ?? (() => new Date());
  let reported: UpstreamReport | undefined;
  let running: Promise<void> | undefined;
  let closed = false;

  const once = async () => {
    const target = await deps.target();
    const result = await probe(target);
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
    close() {
      closed = true;
      clearInterval(timer);
    },
  };
}
