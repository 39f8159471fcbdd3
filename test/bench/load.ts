import { readFile } from 'node:fs/promises';
import { Pool } from 'undici';
import { initializeBody } from '../integration/sidecar/support/harness.ts';

// The benchmark's load generator: one MCP session, then `tools/call` from `concurrency` workers over
// keep-alive connections for a fixed time. Latency per call, throughput, and the CPU the measured
// process (the sidecar) spent per call, which is steadier than wall time on a shared machine.

export interface LoadResult {
  target: string;
  concurrency: number;
  requests: number;
  errors: number;
  p50Ms: number;
  p99Ms: number;
  rps: number;
  /** CPU time (user+system) of the measured process per request. */
  sidecarCpuUsPerRequest?: number;
}

export interface LoadOptions {
  readonly target: string;
  readonly url: string;
  readonly auth: Record<string, string>;
  readonly concurrency: number;
  readonly durationMs: number;
  readonly warmup: number;
  /** Process whose CPU time is charged per request (the sidecar). */
  readonly pid?: number | undefined;
}

const HEADERS = { 'content-type': 'application/json', accept: 'application/json, text/event-stream' };

async function openSession(
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

/** utime + stime of a process in microseconds (Linux /proc, clock ticks of 10 ms). */
async function cpuMicros(pid: number | undefined): Promise<number | undefined> {
  if (pid === undefined) return undefined;
  try {
    const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) * 10_000;
  } catch {
    return undefined;
  }
}

export async function runLoad(o: LoadOptions): Promise<LoadResult> {
  const u = new URL(o.url);
  const pool = new Pool(u.origin, { connections: o.concurrency, pipelining: 1 });
  const headers = await openSession(pool, u.pathname, o.auth);
  let id = 10;
  const body = () =>
    `{"jsonrpc":"2.0","id":${id++},"method":"tools/call","params":{"name":"alpha","arguments":{"n":1}}}`;
  const one = async (): Promise<boolean> => {
    const res = await pool.request({ method: 'POST', path: u.pathname, headers, body: body() });
    const text = await res.body.text();
    return res.statusCode === 200 && text.includes('"result"');
  };
  for (let i = 0; i < o.warmup; i++) await one();
  const latencies: number[] = [];
  let errors = 0;
  const cpuBefore = await cpuMicros(o.pid);
  const until = performance.now() + o.durationMs;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: o.concurrency }, async () => {
      while (performance.now() < until) {
        const t0 = performance.now();
        const ok = await one();
        latencies.push(performance.now() - t0);
        if (!ok) errors++;
      }
    }),
  );
  const elapsed = performance.now() - started;
  const cpuAfter = await cpuMicros(o.pid);
  await pool.close();
  latencies.sort((a, b) => a - b);
  const q = (p: number) =>
    latencies[Math.min(latencies.length - 1, Math.floor(p * latencies.length))] ?? Number.NaN;
  const result: LoadResult = {
    target: o.target,
    concurrency: o.concurrency,
    requests: latencies.length,
    errors,
    p50Ms: q(0.5),
    p99Ms: q(0.99),
    rps: (latencies.length / elapsed) * 1000,
  };
  if (cpuBefore !== undefined && cpuAfter !== undefined) {
    result.sidecarCpuUsPerRequest = (cpuAfter - cpuBefore) / latencies.length;
  }
  return result;
}
