import type { JSONRPCMessage } from '@modelcontextprotocol/sdk/types.js';
import type { Logger } from 'pino';
import type { SidecarMetrics } from '../telemetry/metrics.ts';
import { ERROR_SPECS } from '../transport/errors.ts';
import type { ServerProcess } from './server-process.ts';
import { type Routed, type SessionKey, SessionMux } from './stdio-mux.ts';
import type { StdioPool } from './stdio-pool.ts';

// The stdio `shared` mode: every session of this sidecar over one server process (for stateless
// servers that are slow to start), through the SessionMux. The process is started by the first
// session (or at start with a warm pool), outlives the sessions that come and go, and is stopped
// after the idle timeout with no session left (unless kept warm). When it ends on its own, every
// session on it ends too (their clients get 404 and initialize again, on a new process).

/** Where the mux delivers a session's messages. */
export interface SessionSink {
  deliver(msg: JSONRPCMessage, related: string | number | undefined): void;
  /** The process ended under the session: the session ends too. */
  end(): void;
}

/** A session's end of the shared process. */
export interface SharedLink {
  send(msg: JSONRPCMessage): void;
  close(): void;
}

export interface SharedStdioOptions {
  readonly idleTimeoutMs: number;
  /** Start the process ahead and keep it while idle. */
  readonly warm: boolean;
  readonly logger?: Logger | undefined;
  readonly metrics?: SidecarMetrics | undefined;
  readonly server: string;
}

const PROCESS_ENDED = {
  code: ERROR_SPECS.UPSTREAM_UNAVAILABLE.jsonRpcCode,
  message: ERROR_SPECS.UPSTREAM_UNAVAILABLE.message,
};

export class SharedStdio {
  readonly #pool: StdioPool;
  readonly #options: SharedStdioOptions;
  readonly #mux = new SessionMux();
  readonly #sinks = new Map<SessionKey, SessionSink>();
  #process: ServerProcess | undefined;
  #starting: Promise<ServerProcess | undefined> | undefined;
  #idleTimer: NodeJS.Timeout | undefined;

  /** The pool keeps none warm (warm here means this one, started now), and holds SHARED_MAX_PROCESSES. */
  constructor(pool: StdioPool, options: SharedStdioOptions) {
    this.#pool = pool;
    this.#options = options;
    if (options.warm) {
      this.#processFor().catch((err) =>
        options.logger?.error({ err }, 'cannot start the shared stdio server'),
      );
    }
  }

  get sessions(): number {
    return this.#sinks.size;
  }

  /**
   * Attaches a session, starting the process if none runs; undefined when the pool has no room (two
   * processes still stopping); rejects when the process cannot be started.
   */
  async attach(sink: SessionSink): Promise<SharedLink | undefined> {
    const p = await this.#processFor();
    if (p === undefined) return undefined;
    clearTimeout(this.#idleTimer);
    const key = this.#mux.open();
    this.#sinks.set(key, sink);
    let closed = false;
    return {
      send: (msg) => this.#route(p, this.#mux.fromClient(key, msg)),
      close: () => {
        if (closed) return;
        closed = true;
        this.#sinks.delete(key);
        this.#route(p, this.#mux.close(key));
        if (this.#sinks.size === 0 && !this.#options.warm) this.#armIdle(p);
      },
    };
  }

  #processFor(): Promise<ServerProcess | undefined> {
    if (this.#process !== undefined) return Promise.resolve(this.#process);
    this.#starting ??= this.#start().finally(() => {
      this.#starting = undefined;
    });
    return this.#starting;
  }

  async #start(): Promise<ServerProcess | undefined> {
    const taken = this.#pool.take();
    if (taken === undefined) return undefined;
    const p = taken.process;
    const asked = performance.now();
    await p.spawned;
    p.session = 'shared';
    let first = true;
    p.onmessage = (m) => {
      if (first) {
        first = false;
        this.#pool.answered();
        this.#options.metrics?.stdioStartupDuration.observe(
          { server: this.#options.server, pool: this.#options.warm ? 'warm' : 'cold' },
          (performance.now() - asked) / 1000,
        );
      }
      this.#route(p, this.#mux.fromServer(m));
    };
    void p.exited.then((exit) => this.#ended(p, exit.requested || !exit.answered));
    this.#process = p;
    return p;
  }

  #route(p: ServerProcess, routed: Routed): void {
    for (const d of routed.toSessions) this.#sinks.get(d.session)?.deliver(d.msg, d.related);
    for (const m of routed.toServer) {
      void p.send(m).catch((err) => this.#options.logger?.warn({ err }, 'stdio upstream write failed'));
    }
  }

  #armIdle(p: ServerProcess): void {
    clearTimeout(this.#idleTimer);
    this.#idleTimer = setTimeout(() => {
      if (this.#sinks.size > 0 || this.#process !== p) return;
      this.#process = undefined;
      void this.#pool.reclaim(p, 'idle');
    }, this.#options.idleTimeoutMs).unref();
  }

  /** `stay`: stopped on purpose, or never worked (a restart would spin): the next session starts one. */
  #ended(p: ServerProcess, stay: boolean): void {
    // One stopped when idle ends with no session on it, maybe after its successor took new ones.
    if (this.#process !== p) return;
    this.#process = undefined;
    // Each open request gets an error rather than a stream that just stops; then the sessions end.
    for (const d of this.#mux.processEnded(PROCESS_ENDED))
      this.#sinks.get(d.session)?.deliver(d.msg, undefined);
    const sinks = [...this.#sinks.values()];
    this.#sinks.clear();
    for (const sink of sinks) sink.end();
    if (this.#options.warm && !stay) {
      this.#processFor().catch((err) =>
        this.#options.logger?.error({ err }, 'cannot restart the shared stdio server'),
      );
    }
  }

  /** Stops the idle timer; the pool stops the process. */
  close(): void {
    clearTimeout(this.#idleTimer);
  }
}
