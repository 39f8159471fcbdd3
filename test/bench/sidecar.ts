import { type ChildProcess, spawn } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Pool } from 'undici';
import { stringify } from 'yaml';
import { freePort } from '../../sidecar/src/quickstart/everything.ts';
import { allow, initializeBody, KEYS, rawConfig } from '../integration/sidecar/support/harness.ts';

// npm run bench:sidecar — the same upstream measured directly and through the sidecar (API-key
// authentication, a compiled policy and audit to a file sink all on), side by side in one run, at
// several concurrencies. Prints p50/p99/throughput and the ratio to direct; writes
// bench-results/sidecar.json. Targets (ARCHITECTURE §6): added p50 < 0.5 ms, p99 < 2 ms, >= 70%.
// Upstream, sidecar and load generator run in three processes, as they would in a pod.

const CONCURRENCY = (process.env.BENCH_CONCURRENCY ?? '1,8,32').split(',').map(Number);
const DURATION_MS = Number(process.env.BENCH_DURATION_MS ?? 4000);
const WARMUP = 300;

interface Result {
  target: 'direct' | 'sidecar';
  concurrency: number;
  requests: number;
  errors: number;
  p50Ms: number;
  p99Ms: number;
  rps: number;
  /** Sidecar process CPU time per request (user+system), independent of machine load. */
  sidecarCpuUsPerRequest?: number;
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

async function run(
  target: Result['target'],
  url: string,
  auth: Record<string, string>,
  concurrency: number,
  sidecarPid?: number,
): Promise<Result> {
  const u = new URL(url);
  const pool = new Pool(u.origin, { connections: concurrency, pipelining: 1 });
  const headers = await openSession(pool, u.pathname, auth);
  let id = 10;
  const body = () =>
    `{"jsonrpc":"2.0","id":${id++},"method":"tools/call","params":{"name":"alpha","arguments":{"n":1}}}`;
  const one = async (): Promise<boolean> => {
    const res = await pool.request({ method: 'POST', path: u.pathname, headers, body: body() });
    const text = await res.body.text();
    return res.statusCode === 200 && text.includes('"result"');
  };
  for (let i = 0; i < WARMUP; i++) await one();
  const latencies: number[] = [];
  let errors = 0;
  const cpuBefore = await cpuMicros(sidecarPid);
  const until = performance.now() + DURATION_MS;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (performance.now() < until) {
        const t0 = performance.now();
        const ok = await one();
        latencies.push(performance.now() - t0);
        if (!ok) errors++;
      }
    }),
  );
  const elapsed = performance.now() - started;
  const cpuAfter = await cpuMicros(sidecarPid);
  await pool.close();
  latencies.sort((a, b) => a - b);
  const q = (p: number) =>
    latencies[Math.min(latencies.length - 1, Math.floor(p * latencies.length))] ?? Number.NaN;
  const result: Result = {
    target,
    concurrency,
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

const fmt = (n: number, d = 3) => n.toFixed(d);

function startProcess(args: string[]): { child: ChildProcess; firstLine: Promise<string> } {
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'inherit'] });
  const firstLine = new Promise<string>((resolve, reject) => {
    let buf = '';
    child.stdout?.on('data', (chunk: Buffer) => {
      buf += chunk.toString();
      const nl = buf.indexOf('\n');
      if (nl !== -1) resolve(buf.slice(0, nl));
    });
    child.once('exit', (code) => reject(new Error(`${args[0]} exited with ${code}`)));
  });
  return { child, firstLine };
}

async function waitReady(url: string): Promise<void> {
  for (let i = 0; i < 200; i++) {
    const ok = await fetch(url).then(
      (r) => r.ok,
      () => false,
    );
    if (ok) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`${url} never became ready`);
}

async function main(): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'portcullis-bench-'));
  const children: ChildProcess[] = [];
  try {
    const up = startProcess(['test/bench/echo-upstream-process.ts']);
    children.push(up.child);
    const upstreamUrl = (await up.firstLine).slice(4);
    const [port, adminPort] = [await freePort(), await freePort()];
    const cfg = rawConfig({
      upstream: { transport: 'streamable-http', url: upstreamUrl },
      rules: [
        allow('alice-alpha', { subjects: [{ user: 'alice' }], tools: ['alpha'], when: 'arguments.n < 10' }),
      ],
      audit: {
        sinks: [
          process.env.BENCH_AUDIT_SINK === 'stdout'
            ? { type: 'stdout' }
            : { type: 'file', path: join(dir, 'audit.ndjson') },
        ],
      },
    });
    if (process.env.BENCH_TRACING === 'off') cfg.telemetry = { tracing: { enabled: false } };
    cfg.listen = { host: '127.0.0.1', port, path: '/mcp' };
    cfg.admin = { host: '127.0.0.1', port: adminPort };
    await writeFile(join(dir, 'config.yaml'), stringify(cfg));
    const prof = process.env.BENCH_CPU_PROF
      ? ['--cpu-prof', '--cpu-prof-dir', process.env.BENCH_CPU_PROF]
      : [];
    const sc = spawn(
      process.execPath,
      [...prof, 'sidecar/src/main.ts', '--config', join(dir, 'config.yaml')],
      {
        stdio: ['ignore', 'ignore', 'inherit'],
        // No collector here: span export stays off (trace context is still propagated upstream).
        env: { OTEL_SDK_DISABLED: 'true', ...process.env, LOG_LEVEL: 'warn' },
      },
    );
    children.push(sc);
    await waitReady(`http://127.0.0.1:${adminPort}/readyz`);
    const sidecarUrl = `http://127.0.0.1:${port}/mcp`;
    const results: Result[] = [];
    for (const c of CONCURRENCY) {
      results.push(await run('direct', upstreamUrl, {}, c));
      results.push(await run('sidecar', sidecarUrl, { 'x-api-key': KEYS.alice }, c, sc.pid));
    }
    const rows = CONCURRENCY.map((c) => {
      const d = results.find((r) => r.target === 'direct' && r.concurrency === c) as Result;
      const s = results.find((r) => r.target === 'sidecar' && r.concurrency === c) as Result;
      return {
        concurrency: c,
        direct: d,
        sidecar: s,
        addedP50Ms: s.p50Ms - d.p50Ms,
        addedP99Ms: s.p99Ms - d.p99Ms,
        throughputRatio: s.rps / d.rps,
      };
    });
    console.log(
      '\ntools/call, same upstream, direct vs through the sidecar (authn + policy with CEL + audit to file)\n',
    );
    console.log(
      'conc | direct p50/p99 ms  rps   | sidecar p50/p99 ms  rps   | added p50/p99 ms | ratio | sidecar CPU/req | errors',
    );
    for (const r of rows) {
      console.log(
        `${String(r.concurrency).padStart(4)} | ${fmt(r.direct.p50Ms)}/${fmt(r.direct.p99Ms)} ${fmt(r.direct.rps, 0).padStart(6)} | ` +
          `${fmt(r.sidecar.p50Ms)}/${fmt(r.sidecar.p99Ms)} ${fmt(r.sidecar.rps, 0).padStart(6)} | ` +
          `${fmt(r.addedP50Ms)}/${fmt(r.addedP99Ms)} | ${fmt(r.throughputRatio * 100, 1)}% | ` +
          `${fmt(r.sidecar.sidecarCpuUsPerRequest ?? Number.NaN, 0)} us | ${r.direct.errors + r.sidecar.errors}`,
      );
    }
    await mkdir('bench-results', { recursive: true });
    const out = {
      benchmark: 'sidecar',
      date: new Date().toISOString(),
      node: process.version,
      durationMs: DURATION_MS,
      loadAverage: (await readFile('/proc/loadavg', 'utf8').catch(() => '')).trim(),
      targets: { addedP50Ms: 0.5, addedP99Ms: 2, throughputRatio: 0.7 },
      rows,
    };
    await writeFile('bench-results/sidecar.json', `${JSON.stringify(out, null, 2)}\n`);
    console.log('\nwrote bench-results/sidecar.json');
  } finally {
    await Promise.all(
      children.map(
        (c) =>
          new Promise<void>((resolve) => {
            if (c.exitCode !== null) return resolve();
            c.once('exit', () => resolve());
            c.kill('SIGTERM');
          }),
      ),
    );
    await rm(dir, { recursive: true, force: true });
  }
}

await main();
