import { randomBytes, randomUUID, timingSafeEqual } from 'node:crypto';
import { existsSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { getDefaultEnvironment } from '@modelcontextprotocol/sdk/client/stdio.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import type { JSONRPCMessage } from '@modelcontextprotocol/sdk/types.js';
import type { Logger } from 'pino';
import type { EffectiveConfig } from '../config/load.ts';
import { ERROR_SPECS, type JsonRpcId, jsonRpcError, type ProxyErrorCode } from '../errors.ts';
import type { SidecarMetrics, StdioReclaimReason } from '../telemetry/metrics.ts';
import { readBody } from '../transport/body.ts';
import { LauncherProcess } from './launcher-process.ts';
import type { ServerProcess } from './server-process.ts';
import { StdioPool } from './stdio-pool.ts';
import { findSetpriv, StdioProcess } from './stdio-process.ts';

// A stdio MCP server as a Streamable HTTP upstream: a loopback-only HTTP endpoint where each MCP
// session gets its own process (stdio servers serve one client), from a pool that caps how many
// live at once. The proxy then treats it as any other upstream, so every stage applies unchanged;
// a refusal here (503 at the cap) reaches the caller and the audit as the upstream's answer.
//
// A session ends, and its process group is stopped, on DELETE, when the sidecar forgets the session
// (endSession), after idleTimeoutMs without a message either way and no request in flight, and at
// close. A GET stream held open does not count as activity: it is how SDK clients wait for news.
// Loopback is open to every local user and to the servers themselves, so the bridge answers only
// requests that carry its random token (sent by the sidecar, never seen by callers).

export interface StdioBridge {
  readonly url: string;
  /** What the sidecar sends with every request: the bridge answers no one else. */
  readonly headers: Readonly<Record<string, string>>;
  readonly sessions: number;
  /** Whether a new session can get a process: always, unless the launcher's socket is not there yet. */
  readonly ready: boolean;
  /** Ends a session and stops its process (the sidecar forgot the session: expiry, eviction). */
  endSession(id: string, reason: StdioReclaimReason): void;
  close(): Promise<void>;
}

export interface StdioBridgeDeps {
  readonly logger?: Logger | undefined;
  readonly metrics?: SidecarMetrics | undefined;
  /** The metric label `server`. */
  readonly server?: string;
  /** Told when the bridge ends a session on its own (idle, the process ended), so bindings follow. */
  readonly onSessionEnd?: (id: string) => void;
  /** util-linux setpriv for the parent-death signal; default: found on PATH. */
  readonly setpriv?: string | undefined;
}

interface BridgedSession {
  readonly http: StreamableHTTPServerTransport;
  readonly process: ServerProcess;
  /** POSTs whose reply is still open. */
  inflight: number;
  lastActive: number;
  idleTimer: NodeJS.Timeout | undefined;
  /** Ids of requests the process has not answered, answered with an error if it ends. */
  readonly pending: Set<string | number>;
  ending: StdioReclaimReason | undefined;
}

/** An initialize body is small; the sidecar has applied its own limit before this. */
const MAX_INITIALIZE_BYTES = 1024 * 1024;

export async function startStdioBridge(
  upstream: EffectiveConfig['upstream'],
  deps: StdioBridgeDeps = {},
): Promise<StdioBridge> {
  const limits = upstream.processes;
  const launcher = upstream.launcher;
  if ((upstream.command === undefined && launcher === undefined) || limits === undefined) {
    throw new Error(
      'the stdio bridge needs a validated configuration (upstream.command or launcher, upstream.processes)',
    );
  }
  const { logger, metrics } = deps;
  const server = deps.server ?? 'stdio';
  const command = {
    command: upstream.command ?? '',
    args: upstream.args ?? [],
    // The SDK's short list (PATH, HOME, USER, ...): the sidecar's own secrets stay with the sidecar.
    env: { ...getDefaultEnvironment(), ...upstream.env },
  };
  const setpriv = 'setpriv' in deps ? deps.setpriv : findSetpriv();
  const pool = new StdioPool(limits, {
    spawn:
      launcher !== undefined
        ? () => new LauncherProcess(launcher.socket, { logger, graceMs: limits.stopGraceMs })
        : () => new StdioProcess(command, { logger, pdeathsig: setpriv }),
    metrics,
    server,
    logger,
  });
  const live = new Map<string, BridgedSession>();
  // An exit without close (an uncaught error, process.exit) still takes every group with it.
  const killAll = () => pool.killAll();
  process.once('exit', killAll);

  const end = (s: BridgedSession, reason: StdioReclaimReason) => {
    s.ending ??= reason;
    void s.http.close();
  };

  const armIdle = (s: BridgedSession, delay: number) => {
    s.idleTimer = setTimeout(() => {
      const quiet = Date.now() - s.lastActive;
      if (s.inflight > 0) armIdle(s, limits.idleTimeoutMs);
      else if (quiet < limits.idleTimeoutMs) armIdle(s, limits.idleTimeoutMs - quiet);
      else end(s, 'idle');
    }, delay).unref();
  };

  const open = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const body = await readBody(req, MAX_INITIALIZE_BYTES);
    if (!body.ok) return answer(res, body.code, null);
    let parsed: unknown;
    try {
      parsed = JSON.parse(body.text);
    } catch {
      return answer(res, 'PARSE_ERROR', null);
    }
    const msg = parsed as { id?: JsonRpcId; method?: unknown };
    // Only an initialize starts a process; anything else without a session has none to go to.
    if (msg === null || typeof msg !== 'object' || msg.method !== 'initialize') {
      return answer(res, 'SESSION_REQUIRED', msg?.id ?? null);
    }
    const taken = pool.take();
    if (taken === undefined) {
      logger?.warn({ maxProcesses: limits.maxProcesses }, 'stdio session refused: every process is in use');
      return answer(res, 'UPSTREAM_AT_CAPACITY', msg.id ?? null, { 'retry-after': '5' });
    }
    const child = taken.process;
    try {
      await child.spawned;
    } catch (err) {
      logger?.error({ err }, 'cannot start the stdio MCP server');
      return answer(res, 'UPSTREAM_UNAVAILABLE', msg.id ?? null);
    }
    const asked = taken.warm ? performance.now() : child.spawnedAt;
    let first = true;
    const session: BridgedSession = {
      http: new StreamableHTTPServerTransport({
        sessionIdGenerator: () => randomUUID(),
        onsessioninitialized: (id) => {
          live.set(id, session);
          child.session = id;
          armIdle(session, limits.idleTimeoutMs);
        },
        onsessionclosed: () => {
          session.ending ??= 'session_end';
        },
      }),
      process: child,
      inflight: 0,
      lastActive: Date.now(),
      idleTimer: undefined,
      pending: new Set(),
      ending: undefined,
    };
    const { http } = session;
    http.onmessage = (m) => {
      session.lastActive = Date.now();
      if ('method' in m && 'id' in m) session.pending.add(m.id);
      void child.send(m).catch((err) => logger?.warn({ err }, 'stdio upstream write failed'));
    };
    child.onmessage = (m) => {
      session.lastActive = Date.now();
      if (first && ('result' in m || 'error' in m)) {
        first = false;
        pool.answered();
        metrics?.stdioStartupDuration.observe(
          { server, pool: taken.warm ? 'warm' : 'cold' },
          (performance.now() - asked) / 1000,
        );
      }
      if (('result' in m || 'error' in m) && m.id !== undefined) session.pending.delete(m.id);
      void http.send(m).catch(() => {});
    };
    http.onclose = () => {
      clearTimeout(session.idleTimer);
      if (http.sessionId !== undefined && live.get(http.sessionId) === session) {
        live.delete(http.sessionId);
        if (session.ending !== 'session_expired') deps.onSessionEnd?.(http.sessionId);
      }
      void pool.reclaim(child, session.ending ?? 'session_end');
    };
    void child.exited.then(async (exit) => {
      if (exit.requested) return;
      // Ended on its own: each open request gets an error rather than a stream that just stops.
      for (const id of session.pending) {
        await http.send(jsonRpcError('UPSTREAM_UNAVAILABLE', id) as JSONRPCMessage).catch(() => {});
      }
      end(session, 'session_end');
    });
    await http.start();
    await track(session, res, () => http.handleRequest(req, res, parsed));
    // Refused by the transport (protocol version, headers): no session, so no process either.
    if (http.sessionId === undefined) void http.close();
  };

  const token = randomBytes(32).toString('base64url');
  const expected = Buffer.from(`Bearer ${token}`);
  const authorized = (req: IncomingMessage) => {
    const got = Buffer.from(req.headers.authorization ?? '');
    return got.length === expected.length && timingSafeEqual(got, expected);
  };

  const httpServer: Server = createServer((req, res) => {
    if (!authorized(req)) {
      req.resume();
      res.writeHead(403).end();
      return;
    }
    const sid = req.headers['mcp-session-id'];
    const existing = typeof sid === 'string' ? live.get(sid) : undefined;
    if (existing) {
      existing.lastActive = Date.now();
      const handled = () => existing.http.handleRequest(req, res);
      void (req.method === 'POST' ? track(existing, res, handled) : handled()).catch((err) => fail(res, err));
      return;
    }
    if (sid === undefined && req.method === 'POST') {
      open(req, res).catch((err) => fail(res, err));
      return;
    }
    answer(res, 'SESSION_NOT_FOUND', null);
  });

  const fail = (res: ServerResponse, err: unknown) => {
    logger?.error({ err }, 'stdio bridge request failed');
    if (!res.headersSent) answer(res, 'INTERNAL', null);
    else res.destroy();
  };

  await new Promise<void>((resolve) => httpServer.listen(0, '127.0.0.1', resolve));
  const port = (httpServer.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}/mcp`,
    headers: { authorization: `Bearer ${token}` },
    get sessions() {
      return live.size;
    },
    get ready() {
      return launcher === undefined || existsSync(launcher.socket);
    },
    endSession(id, reason) {
      const s = live.get(id);
      if (s !== undefined) end(s, reason);
    },
    async close() {
      for (const s of live.values()) s.ending ??= 'shutdown';
      await Promise.all([...live.values()].map((s) => s.http.close().catch(() => {})));
      live.clear();
      await pool.close();
      process.off('exit', killAll);
      httpServer.closeAllConnections();
      await new Promise<void>((resolve) => httpServer.close(() => resolve()));
    },
  };
}

/** Counts a POST as in flight until its reply is closed, so a long tool call is never idle. */
async function track(s: BridgedSession, res: ServerResponse, handle: () => Promise<void>): Promise<void> {
  s.inflight++;
  res.once('close', () => {
    s.inflight--;
    s.lastActive = Date.now();
  });
  await handle();
}

function answer(
  res: ServerResponse,
  code: ProxyErrorCode,
  id: JsonRpcId,
  headers: Record<string, string> = {},
): void {
  const text = JSON.stringify(jsonRpcError(code, id));
  res.writeHead(ERROR_SPECS[code].httpStatus, { ...headers, 'content-type': 'application/json' }).end(text);
}
