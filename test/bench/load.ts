import { readFile } from 'node:fs/promises';
import { Pool } from 'undici';
import { initializeBody } from '../support/harness.ts';

// The benchmark's load generator: one MCP session per target, then `tools/call` over keep-alive
// connections for a fixed time, in one of two shapes:
// - closed loop: `concurrency` workers, each sending its next call when the last one is answered.
//   With one target this finds the throughput; once the machine is saturated, latency is mostly
//   waiting for a core.
// - open loop: calls start at a fixed `rate` whether or not earlier ones were answered (as many
//   independent clients would send them), so latency is measured below saturation.
// With several targets, calls alternate between them, so a pause anywhere else on the machine (the
// upstream's garbage collector, another process) lands on both alike and the difference is the proxy's.
// Reports latency per call, throughput, and the CPU the measured process (the sidecar) spent per
// call, which is steadier than wall time on a shared machine.

export interface LoadResult {
  target: string;
  concurrency: number;
  /** Calls per second offered (open loop); absent for a closed loop. */
  rate?: number;
  requests: number;
  errors: number;
  p50Ms: number;
  p99Ms: number;
  rps: number;
  /** CPU time (user+system) of the target's process (the proxy) per request, when its pid is known. */
  cpuUsPerRequest?: number | undefined;
  /** CPU per request of the processes every target shares in this run: the load generator and the upstream. */
  sharedCpuUsPerRequest?: { loadGenerator: number; upstream?: number | undefined };
}

export interface LoadTarget {
  readonly name: string;
  readonly url: string;
  readonly auth: Record<string, string>;
  /** Process whose CPU time is charged per request of this target (the proxy). */
  readonly pid?: number | undefined;
}

export interface LoadOptions {
  /** Several targets are interleaved call by call, so whatever else the machine does hits all alike. */
  readonly targets: readonly LoadTarget[];
  /** Closed loop: workers; open loop: connections per target. */
  readonly concurrency: number;
  /** Open loop: calls started per second and per target. */
  readonly rate?: number | undefined;
  readonly durationMs: number;
  /** Calls per target before measuring, sent by `concurrency` callers. */
  readonly warmup: number;
  /**
   * Run the same load this long, unmeasured, before measuring. A change of load makes V8 re-optimise
   * the proxies' hot paths (objects of new connections and sessions), and at a low rate that takes
   * seconds; what the row should show is a process settled at that load.
   */
  readonly warmupMs?: number | undefined;
  /** The upstream's process, whose CPU is reported per request alongside the proxy's. */
  readonly upstreamPid?: number | undefined;
  /** What each call is: `tools/call` of alpha (default), or `tools/list` (the pinning rows). */
  readonly method?: 'tools/call' | 'tools/list' | undefined;
}

const BODIES = {
  'tools/call': (id: number) =>
    `{"jsonrpc":"2.0","id":${id},"method":"tools/call","params":{"name":"alpha","arguments":{"n":1}}}`,
  'tools/list': (id: number) => `{"jsonrpc":"2.0","id":${id},"method":"tools/list","params":{}}`,
} as const;

const HEADERS = { 'content-type': 'application/json', accept: 'application/json, text/event-stream' };

export async function openSession(
  pool: Pool,
  path: string,
  auth: Record<string, string>,
): Promise<Record<string, string>> {
  const res = await pool.request({
    method: 'POST',
    path,
    headers: { ...HEADERS, ...auth },
    body: initializeBody(1, '2025-06-18'),
  });
  await res.body.text();
  const sid = res.headers['mcp-session-id'];
  if (typeof sid !== 'string') throw new Error(`no session from ${path}: HTTP ${res.statusCode}`);
  const h = { ...HEADERS, ...auth, 'mcp-session-id': sid, 'mcp-protocol-version': '2025-06-18' };
  const n = await pool.request({
    method: 'POST',
    path,
    headers: h,
    body: '{"jsonrpc":"2.0","method":"notifications/initialized"}',
  });
  await n.body.text();
  return h;
}

/**
 * utime + stime in microseconds (Linux /proc, clock ticks of 10 ms) of a process, or with `children`
 * of its children that have exited and been waited for (wrk).
 */
export async function cpuMicros(
  pid: number | 'self' | undefined,
  of: 'process' | 'children' = 'process',
): Promise<number | undefined> {
  if (pid === undefined) return undefined;
  try {
    const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const utime = of === 'process' ? 11 : 13;
    return (Number(fields[utime]) + Number(fields[utime + 1])) * 10_000;
  } catch {
    return undefined;
  }
}

/** CPU per call between two readings, when both were taken. */
export function perCall(before: number | undefined, after: number | undefined, calls: number) {
  return before === undefined || after === undefined ? undefined : (after - before) / calls;
}

/** Ends an MCP session (DELETE), so runs do not pile sessions up in the upstream. */
export async function closeSession(pool: Pool, path: string, headers: Record<string, string>) {
  await pool
    .request({ method: 'DELETE', path, headers })
    .then((r) => r.body.dump())
    .catch(() => {});
}

interface Client {
  readonly target: LoadTarget;
  readonly latencies: number[];
  errors: number;
  cpuBefore?: number | undefined;
  call(): Promise<void>;
  /** Ends the MCP session and closes the pool. */
  close(): Promise<void>;
}

async function client(
  target: LoadTarget,
  connections: number,
  method: keyof typeof BODIES = 'tools/call',
): Promise<Client> {
  const bodyOf = BODIES[method];
  const u = new URL(target.url);
  const pool = new Pool(u.origin, { connections, pipelining: 1 });
  const headers = await openSession(pool, u.pathname, target.auth);
  let id = 10;
  const one = async (): Promise<boolean> => {
    const body = bodyOf(id++);
    const res = await pool.request({ method: 'POST', path: u.pathname, headers, body });
    const text = await res.body.text();
    return res.statusCode === 200 && text.includes('"result"');
  };
  const c: Client = {
    target,
    latencies: [],
    errors: 0,
    async call() {
      const t0 = performance.now();
      const ok = await one().catch(() => false);
      c.latencies.push(performance.now() - t0);
      if (!ok) c.errors++;
    },
    async close() {
      await closeSession(pool, u.pathname, headers);
      await pool.close();
    },
  };
  return c;
}

/** `concurrency` workers, each calling again when answered, round robin over the targets. */
async function closedLoop(clients: Client[], concurrency: number, until: number): Promise<void> {
  await Promise.all(
    Array.from({ length: concurrency }, async (_, worker) => {
      for (let i = worker; performance.now() < until; i++)
        await (clients[i % clients.length] as Client).call();
    }),
  );
}

/** Starts calls at `rate` per target from `from` to `until`, round robin over the targets. */
async function openLoop(clients: Client[], rate: number, from: number, until: number): Promise<void> {
  const interval = 1000 / (rate * clients.length);
  const inFlight: Promise<void>[] = [];
  for (let i = 0; from + i * interval < until; i++) {
    const wait = from + i * interval - performance.now();
    if (wait >= 1) await new Promise((r) => setTimeout(r, wait));
    inFlight.push((clients[i % clients.length] as Client).call());
  }
  await Promise.all(inFlight);
}

export async function runLoad(o: LoadOptions): Promise<LoadResult[]> {
  const clients = await Promise.all(o.targets.map((t) => client(t, o.concurrency, o.method)));
  // Warm-up with every connection open on both hops, so opening them is not measured.
  for (const c of clients) {
    let left = o.warmup;
    await Promise.all(
      Array.from({ length: Math.min(o.concurrency, o.warmup) }, async () => {
        while (left-- > 0) await c.call();
      }),
    );
    c.latencies.length = 0;
    c.errors = 0;
  }
  const drive = (from: number, until: number) =>
    o.rate === undefined ? closedLoop(clients, o.concurrency, until) : openLoop(clients, o.rate, from, until);
  if (o.warmupMs) {
    const from = performance.now();
    await drive(from, from + o.warmupMs);
    for (const c of clients) {
      c.latencies.length = 0;
      c.errors = 0;
    }
  }
  for (const c of clients) c.cpuBefore = await cpuMicros(c.target.pid);
  const upstreamBefore = await cpuMicros(o.upstreamPid);
  const selfBefore = process.cpuUsage();
  const started = performance.now();
  await drive(started, started + o.durationMs);
  const elapsed = performance.now() - started;
  const self = process.cpuUsage(selfBefore);
  const upstreamAfter = await cpuMicros(o.upstreamPid);
  const total = clients.reduce((n, c) => n + c.latencies.length, 0);
  const shared = {
    loadGenerator: (self.user + self.system) / total,
    upstream: perCall(upstreamBefore, upstreamAfter, total),
  };
  const results: LoadResult[] = [];
  for (const c of clients) {
    const cpuAfter = await cpuMicros(c.target.pid);
    await c.close();
    const latencies = c.latencies.sort((a, b) => a - b);
    const q = (p: number) =>
      latencies[Math.min(latencies.length - 1, Math.floor(p * latencies.length))] ?? Number.NaN;
    const result: LoadResult = {
      target: c.target.name,
      concurrency: o.concurrency,
      ...(o.rate === undefined ? {} : { rate: o.rate }),
      requests: latencies.length,
      errors: c.errors,
      p50Ms: q(0.5),
      p99Ms: q(0.99),
      rps: (latencies.length / elapsed) * 1000,
      sharedCpuUsPerRequest: shared,
      cpuUsPerRequest: perCall(c.cpuBefore, cpuAfter, latencies.length),
    };
    results.push(result);
  }
  return results;
}
