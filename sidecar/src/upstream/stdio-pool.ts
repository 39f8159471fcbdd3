import type { Logger } from 'pino';
import type { StdioProcessesConfig } from '../config/load.ts';
import type { SidecarMetrics, StdioProcessState, StdioReclaimReason } from '../telemetry/metrics.ts';
import type { ServerProcess } from './server-process.ts';

// The stdio server processes of one sidecar: at most maxProcesses alive at once (warm, serving a
// session, or stopping: a process counts until its group is gone), a warm pool kept full while
// there is room, and every start, failure and reclaim counted. A warm pool whose processes keep
// failing is refilled with a growing delay, so a broken command does not spin.

export interface StdioPoolDeps {
  readonly spawn: () => ServerProcess;
  readonly metrics?: SidecarMetrics | undefined;
  readonly server: string;
  readonly logger?: Logger | undefined;
}

export interface Taken {
  readonly process: ServerProcess;
  /** Whether it was started ahead (its start-up is already behind it). */
  readonly warm: boolean;
}

const MAX_REFILL_DELAY_MS = 30_000;

export class StdioPool {
  readonly #limits: StdioProcessesConfig;
  readonly #deps: StdioPoolDeps;
  readonly #live = new Map<ServerProcess, StdioProcessState>();
  readonly #stopping = new Map<ServerProcess, Promise<void>>();
  #failures = 0;
  #refillTimer: NodeJS.Timeout | undefined;
  #closed = false;

  constructor(limits: StdioProcessesConfig, deps: StdioPoolDeps) {
    this.#limits = limits;
    this.#deps = deps;
    this.#gauges();
    this.#refill();
  }

  /** Processes alive in any state. */
  get size(): number {
    return this.#live.size;
  }

  /** A process for a new session: a warm one, else a new one while under the cap; undefined at the cap. */
  take(): Taken | undefined {
    if (this.#closed) return undefined;
    let taken: Taken | undefined;
    for (const [p, state] of this.#live) {
      if (state === 'warm' && p.running) {
        taken = { process: p, warm: true };
        break;
      }
    }
    if (taken === undefined && this.#live.size < this.#limits.maxProcesses) {
      taken = { process: this.#start(), warm: false };
    }
    if (taken === undefined) {
      this.#deps.metrics?.stdioSessionsRefused.inc({ server: this.#deps.server });
      return undefined;
    }
    this.#live.set(taken.process, 'session');
    this.#gauges();
    this.#refill();
    return taken;
  }

  /** A process answered its first message: the command works, so refills need no delay. */
  answered(): void {
    this.#failures = 0;
  }

  /** Stops a process and its group; resolves when they are gone. Idempotent. */
  reclaim(p: ServerProcess, reason: StdioReclaimReason): Promise<void> {
    const stopping = this.#stopping.get(p);
    if (stopping !== undefined) return stopping;
    if (!this.#live.has(p)) return Promise.resolve();
    this.#live.set(p, 'stopping');
    this.#gauges();
    this.#deps.metrics?.stdioProcessesReclaimed.inc({ server: this.#deps.server, reason });
    const done = p.stop(this.#limits.stopGraceMs);
    this.#stopping.set(p, done);
    return done;
  }

  /** Stops every process (SIGTERM, SIGKILL after the grace) and starts no more. */
  async close(): Promise<void> {
    this.#closed = true;
    clearTimeout(this.#refillTimer);
    await Promise.all([...this.#live.keys()].map((p) => this.reclaim(p, 'shutdown')));
  }

  /** SIGKILL to every group now, for an exit that cannot wait. */
  killAll(): void {
    for (const p of this.#live.keys()) p.killNow();
  }

  #start(): ServerProcess {
    const p = this.#deps.spawn();
    const labels = { server: this.#deps.server };
    this.#deps.metrics?.stdioProcessesStarted.inc(labels);
    void p.exited.then((exit) => {
      this.#live.delete(p);
      this.#stopping.delete(p);
      if (!exit.requested) {
        const phase = exit.answered ? 'running' : 'start';
        this.#deps.metrics?.stdioProcessesFailed.inc({ ...labels, phase });
        this.#deps.logger?.warn(
          { stdio: { pid: p.pid, session: p.session }, code: exit.code, signal: exit.signal },
          exit.answered ? 'stdio server ended on its own' : 'stdio server ended before its first message',
        );
        if (!exit.answered) this.#failures++;
      }
      this.#gauges();
      this.#refill();
    });
    return p;
  }

  #refill(): void {
    if (this.#closed || this.#refillTimer !== undefined) return;
    if (this.#failures === 0) {
      this.#fill();
      return;
    }
    const delay = Math.min(MAX_REFILL_DELAY_MS, 250 * 2 ** Math.min(this.#failures, 16));
    this.#refillTimer = setTimeout(() => {
      this.#refillTimer = undefined;
      if (!this.#closed) this.#fill();
    }, delay).unref();
  }

  #fill(): void {
    let warm = 0;
    for (const state of this.#live.values()) if (state === 'warm') warm++;
    let added = false;
    while (warm < this.#limits.warm && this.#live.size < this.#limits.maxProcesses) {
      this.#live.set(this.#start(), 'warm');
      warm++;
      added = true;
    }
    if (added) this.#gauges();
  }

  #gauges(): void {
    const gauge = this.#deps.metrics?.stdioProcesses;
    if (gauge === undefined) return;
    const counts: Record<StdioProcessState, number> = { warm: 0, session: 0, stopping: 0 };
    for (const state of this.#live.values()) counts[state]++;
    for (const state of Object.keys(counts) as StdioProcessState[]) {
      gauge.set({ server: this.#deps.server, state }, counts[state]);
    }
  }
}
