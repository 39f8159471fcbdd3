import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Pool } from 'undici';
import { parse, stringify } from 'yaml';
import { freePort } from '../../sidecar/src/quickstart/everything.ts';
import { type Child, startChild } from '../support/child-process.ts';
import { allow, KEYS, rawConfig } from '../support/harness.ts';
import { closeSession, cpuMicros, type LoadResult, type LoadTarget, openSession, runLoad } from './load.ts';
import { runWrk, wrkAvailable } from './wrk.ts';

// npm run bench:memory — the sidecar's footprint as the image runs it: the compiled code
// (`npm run build`), started with the V8 flags of Dockerfile.sidecar's ENTRYPOINT, with a typical
// configuration (API keys, a policy with a CEL rule, audit to a file). Method and figures:
// docs/performance.md#memory.
//   1. start-up: process start to /readyz, and to the first tools/call answered through it (median);
//   2. idle: RSS (private and file-backed: the node binary's pages), V8 heap in use;
//   3. load: c=32 calls for LOAD_S, RSS sampled every second (peak, last), every reply checked;
//   4. soak: SOAK_CLIENTS clients each opening a session, calling, ending it, again and again, for
//      SOAK_S; RSS sampled every 5 s, growth between the first and last fifth;
//   5. allocation per call: the V8 heap's allocation (--trace-gc-nvp: each collection's starting size
//      less the previous one's end) over a window at c=8, for the sidecar and the bare proxy.
// The bare proxy (test/bench/bare-proxy-process.ts) is measured beside it as the yardstick.
// Writes bench-results/memory.json.
//
// Knobs: BENCH_MEMORY_LOAD_S (60; the target is for 600), BENCH_MEMORY_SOAK_S (120; 1800),
// BENCH_MEMORY_SOAK_CLIENTS (8), BENCH_MEMORY_STARTS (5), BENCH_MEMORY_ALLOC_S (10),
// BENCH_MEMORY_PINNING (Off; TrustOnFirstUse with pins in memory),
// BENCH_NODE_FLAGS (replaces the image's V8 flags, e.g. to compare semi-space sizes),
// BENCH_LOAD_GENERATOR (auto: wrk when installed; node).

const ROOT = new URL('../../', import.meta.url).pathname;
const LOAD_S = Number(process.env.BENCH_MEMORY_LOAD_S ?? 60);
const SOAK_S = Number(process.env.BENCH_MEMORY_SOAK_S ?? 120);
const SOAK_CLIENTS = Number(process.env.BENCH_MEMORY_SOAK_CLIENTS ?? 8);
const STARTS = Number(process.env.BENCH_MEMORY_STARTS ?? 5);
const ALLOC_S = Number(process.env.BENCH_MEMORY_ALLOC_S ?? 10);
const LOAD_GENERATOR = process.env.BENCH_LOAD_GENERATOR ?? 'auto';
const ENV = { ...process.env, OTEL_SDK_DISABLED: 'true', LOG_LEVEL: 'warn' };
const MiB = 1024 * 1024;

/** The chart's default memory limit of the sidecar container, in MiB (values.yaml config.sidecar). */
async function chartSidecarLimitMiB(): Promise<number> {
  const values = parse(await readFile(join(ROOT, 'charts/portcullis/values.yaml'), 'utf8')) as {
    config: { sidecar: { resources: { limits: { memory: string } } } };
  };
  const limit = values.config.sidecar.resources.limits.memory;
  const m = /^(\d+)Mi$/.exec(limit);
  if (!m) throw new Error(`config.sidecar.resources.limits.memory ${limit}: expected NNNMi`);
  return Number(m[1]);
}

/**
 * The node flags of the image's entry point (Dockerfile.sidecar is their one source). A percentage of
 * the old space is of the container's memory limit in a pod; here, with no such limit, it becomes
 * the same share of the chart's default limit, so V8 sizes its heap as it would in the pod.
 */
async function imageNodeFlags(limitMiB: number): Promise<string[]> {
  let flags: string[];
  if (process.env.BENCH_NODE_FLAGS !== undefined)
    flags = process.env.BENCH_NODE_FLAGS.split(/\s+/).filter(Boolean);
  else {
    const dockerfile = await readFile(join(ROOT, 'Dockerfile.sidecar'), 'utf8');
    const line = dockerfile.split('\n').find((l) => l.startsWith('ENTRYPOINT '));
    if (line === undefined) throw new Error('Dockerfile.sidecar has no ENTRYPOINT');
    const argv = JSON.parse(line.slice('ENTRYPOINT '.length)) as string[];
    flags = argv.slice(1, -1); // between `node` and the script
  }
  return flags.map((f) => {
    const pct = /^--max-old-space-size-percentage=(\d+)$/.exec(f);
    return pct ? `--max-old-space-size=${Math.floor((limitMiB * Number(pct[1])) / 100)}` : f;
  });
}

interface Rss {
  rssMiB: number;
  anonMiB: number;
  fileMiB: number;
}

async function rssOf(pid: number): Promise<Rss> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  const kb = (field: string) =>
    Number(new RegExp(`^${field}:\\s+(\\d+)`, 'm').exec(status)?.[1] ?? Number.NaN);
  return { rssMiB: kb('VmRSS') / 1024, anonMiB: kb('RssAnon') / 1024, fileMiB: kb('RssFile') / 1024 };
}

async function heapUsedMiB(adminUrl: string): Promise<number> {
  const text = await (await fetch(`${adminUrl}/metrics`)).text();
  const m = /^portcullis_sidecar_nodejs_heap_size_used_bytes (\S+)/m.exec(text);
  return m ? Number(m[1]) / MiB : Number.NaN;
}

/** Samples a process's RSS every `everyMs` until stopped. */
function sampler(pid: number, everyMs: number) {
  const samples: Rss[] = [];
  const timer = setInterval(() => {
    rssOf(pid).then(
      (r) => samples.push(r),
      () => {},
    );
  }, everyMs);
  return {
    samples,
    stop: () => clearInterval(timer),
  };
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] ?? Number.NaN;
};

interface Sidecar {
  child: Child;
  url: string;
  adminUrl: string;
  /** Everything it wrote to stdout (pino at warn, and --trace-gc-nvp lines when asked). */
  stdout: () => string;
}

/**
 * A Node helper of the benchmark (upstream, bare proxy) whose stdout goes to a file, all of it
 * (--trace-gc-nvp writes more than a child's kept output holds); resolves with its announced URL.
 */
async function startHelper(
  dir: string,
  name: string,
  args: string[],
): Promise<{ child: Child; url: string; stdout: () => string }> {
  const file = join(dir, `${name}-${Date.now()}.out`);
  const child = startChild(name, process.execPath, args, {
    cwd: ROOT,
    env: ENV,
    stdout: { file },
    stderr: 'inherit',
  });
  const stdout = () => readFileSync(file, 'utf8');
  for (;;) {
    const m = /^URL (\S+)$/m.exec(stdout());
    if (m) return { child, url: m[1] as string, stdout };
    if (child.process.exitCode !== null) throw new Error(`${name} exited: ${child.output()}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

async function configFile(
  dir: string,
  upstreamUrl: string,
): Promise<{ file: string; port: number; adminPort: number }> {
  const [port, adminPort] = [await freePort(), await freePort()];
  const cfg = rawConfig({
    upstream: { transport: 'streamable-http', url: upstreamUrl },
    rules: [
      allow('alice-alpha', { subjects: [{ user: 'alice' }], tools: ['alpha'], when: 'arguments.n < 10' }),
    ],
    audit: {
      sinks: [{ type: 'file', path: join(dir, `audit-${port}.log`), maxBytes: 50 * MiB, maxFiles: 2 }],
    },
  });
  // Off, as in the figures of docs/performance.md; BENCH_MEMORY_PINNING=TrustOnFirstUse (pins in memory)
  // measures the standalone default.
  cfg.pinning = { mode: (process.env.BENCH_MEMORY_PINNING as 'TrustOnFirstUse' | undefined) ?? 'Off' };
  cfg.listen = { host: '127.0.0.1', port, path: '/mcp' };
  cfg.admin = { host: '127.0.0.1', port: adminPort };
  const file = join(dir, `sidecar-${port}.yaml`);
  await writeFile(file, stringify(cfg));
  return { file, port, adminPort };
}

/** The compiled sidecar as the image starts it; resolves when /readyz answers, with the times taken. */
async function startSidecar(
  dir: string,
  upstreamUrl: string,
  flags: string[],
): Promise<Sidecar & { readyMs: number; started: number }> {
  const { file, port, adminPort } = await configFile(dir, upstreamUrl);
  const started = performance.now();
  const out = join(dir, `sidecar-${port}.out`);
  const child = startChild(
    'sidecar',
    process.execPath,
    [...flags, 'dist/sidecar/src/main.js', '--config', file],
    {
      cwd: ROOT,
      env: ENV,
      stdout: { file: out },
      stderr: 'inherit',
    },
  );
  const adminUrl = `http://127.0.0.1:${adminPort}`;
  await child.waitUntilServing(`${adminUrl}/readyz`, { timeoutMs: 30_000 });
  return {
    child,
    url: `http://127.0.0.1:${port}/mcp`,
    adminUrl,
    stdout: () => readFileSync(out, 'utf8'),
    readyMs: performance.now() - started,
    started,
  };
}

const ALICE = { 'x-api-key': KEYS.alice };
const CALL = (id: number) =>
  `{"jsonrpc":"2.0","id":${id},"method":"tools/call","params":{"name":"alpha","arguments":{"n":1}}}`;

/** One tools/call in a fresh session; throws unless it is a JSON-RPC result. */
async function oneCall(pool: Pool, path: string, id: number): Promise<void> {
  const headers = await openSession(pool, path, ALICE);
  const res = await pool.request({ method: 'POST', path, headers, body: CALL(id) });
  const text = await res.body.text();
  if (res.statusCode !== 200 || !text.includes('"result"'))
    throw new Error(`tools/call answered HTTP ${res.statusCode}: ${text.slice(0, 200)}`);
  await closeSession(pool, path, headers);
}

async function startup(dir: string, upstreamUrl: string, flags: string[]) {
  const ready: number[] = [];
  const readyCpu: number[] = [];
  const firstCall: number[] = [];
  for (let i = 0; i < STARTS; i++) {
    const sc = await startSidecar(dir, upstreamUrl, flags);
    // CPU time to ready moves far less than wall time when other processes hold the cores.
    readyCpu.push(((await cpuMicros(sc.child.pid)) ?? Number.NaN) / 1000);
    const u = new URL(sc.url);
    const pool = new Pool(u.origin, { connections: 1 });
    await oneCall(pool, u.pathname, 1);
    firstCall.push(performance.now() - sc.started);
    ready.push(sc.readyMs);
    await pool.close();
    await sc.child.stop();
  }
  return {
    readyMs: median(ready),
    readyCpuMs: median(readyCpu),
    firstCallMs: median(firstCall),
    readyAllMs: ready,
    firstCallAllMs: firstCall,
  };
}

async function load(
  target: LoadTarget,
  seconds: number,
  concurrency: number,
  upstreamPid?: number,
): Promise<LoadResult> {
  const useWrk = LOAD_GENERATOR === 'wrk' || (LOAD_GENERATOR === 'auto' && (await wrkAvailable()));
  if (useWrk) return runWrk({ target, concurrency, durationMs: seconds * 1000, upstreamPid });
  const [r] = await runLoad({
    targets: [target],
    concurrency,
    durationMs: seconds * 1000,
    warmup: 0,
    upstreamPid,
  });
  if (r === undefined) throw new Error('no load result');
  return r;
}

/** Load in slices of at most 30 s (one MCP session each), RSS sampled every second throughout. */
async function underLoad(target: LoadTarget & { pid: number }, seconds: number, upstreamPid?: number) {
  const s = sampler(target.pid, 1000);
  let calls = 0;
  let errors = 0;
  let cpuUs = 0;
  try {
    for (let left = seconds; left > 0; left -= 30) {
      const r = await load(target, Math.min(30, left), 32, upstreamPid);
      calls += r.requests;
      errors += r.errors;
      cpuUs += (r.cpuUsPerRequest ?? Number.NaN) * r.requests;
    }
  } finally {
    s.stop();
  }
  const rss = s.samples.map((x) => x.rssMiB);
  return {
    seconds,
    calls,
    errors,
    cpuUsPerCall: cpuUs / Math.max(1, calls),
    peakRssMiB: Math.max(...rss),
    lastRssMiB: rss.at(-1) ?? Number.NaN,
  };
}

/** Clients that each open a session, make a few calls and end it, over and over. */
async function soak(target: LoadTarget & { pid: number }, seconds: number) {
  const u = new URL(target.url);
  const pool = new Pool(u.origin, { connections: SOAK_CLIENTS });
  const s = sampler(target.pid, 5000);
  const deadline = Date.now() + seconds * 1000;
  let sessions = 0;
  let calls = 0;
  let errors = 0;
  const client = async () => {
    while (Date.now() < deadline) {
      try {
        const headers = await openSession(pool, u.pathname, target.auth);
        for (let i = 0; i < 10; i++) {
          const res = await pool.request({ method: 'POST', path: u.pathname, headers, body: CALL(i + 2) });
          const text = await res.body.text();
          if (res.statusCode === 200 && text.includes('"result"')) calls++;
          else errors++;
        }
        await closeSession(pool, u.pathname, headers);
        sessions++;
      } catch {
        errors++;
      }
    }
  };
  await Promise.all(Array.from({ length: SOAK_CLIENTS }, client));
  s.stop();
  await pool.close();
  const rss = s.samples.map((x) => x.rssMiB);
  const fifth = Math.max(1, Math.floor(rss.length / 5));
  const first = median(rss.slice(0, fifth));
  const last = median(rss.slice(-fifth));
  return {
    seconds,
    sessions,
    calls,
    errors,
    firstFifthRssMiB: first,
    lastFifthRssMiB: last,
    growthMiB: last - first,
    peakRssMiB: Math.max(...rss),
  };
}

/** Bytes the V8 heap allocated in a window, from --trace-gc-nvp lines: each start less the previous end. */
function allocatedBytes(gcLines: string): number {
  let total = 0;
  let previousEnd: number | undefined;
  for (const line of gcLines.split('\n')) {
    const start = /\bstart_object_size=(\d+)/.exec(line);
    const end = /\bend_object_size=(\d+)/.exec(line);
    if (!start || !end) continue;
    if (previousEnd !== undefined) total += Math.max(0, Number(start[1]) - previousEnd);
    previousEnd = Number(end[1]);
  }
  return total;
}

/** Allocation per call at c=8 over ALLOC_S, after a warm-up of the same load. */
async function allocationPerCall(target: LoadTarget, stdout: () => string, upstreamPid?: number) {
  await load(target, 10, 8, upstreamPid);
  const from = stdout().length;
  const r = await load(target, ALLOC_S, 8, upstreamPid);
  const window = stdout().slice(from);
  return {
    calls: r.requests,
    errors: r.errors,
    kbPerCall: allocatedBytes(window) / 1024 / Math.max(1, r.requests),
  };
}

const fmt = (n: number, d = 1) => (Number.isFinite(n) ? n.toFixed(d) : '–');

async function main() {
  process.stdout.write('building the compiled sidecar (npm run build) ...\n');
  await promisify(execFile)('npm', ['run', 'build'], { cwd: ROOT });
  const limitMiB = await chartSidecarLimitMiB();
  const flags = await imageNodeFlags(limitMiB);
  process.stdout.write(
    `node flags (Dockerfile.sidecar ENTRYPOINT, for the chart's ${limitMiB} MiB limit): ${flags.join(' ') || '(none)'}\n`,
  );
  const dir = await mkdtemp(join(tmpdir(), 'portcullis-bench-memory-'));
  const children: Child[] = [];
  try {
    const up = await startHelper(dir, 'echo-upstream', ['test/bench/echo-upstream-process.ts']);
    children.push(up.child);
    const upstreamUrl = up.url;
    const upstreamPid = up.child.pid;

    process.stdout.write(`1/5 start-up, ${STARTS} starts ...\n`);
    const start = await startup(dir, upstreamUrl, flags);

    process.stdout.write('2/5 idle ...\n');
    const sc = await startSidecar(dir, upstreamUrl, flags);
    children.push(sc.child);
    const bare = await startHelper(dir, 'bare-proxy', [
      ...flags,
      'test/bench/bare-proxy-process.ts',
      upstreamUrl,
    ]);
    children.push(bare.child);
    const bareUrl = bare.url;
    await new Promise((r) => setTimeout(r, 5000));
    const sidecarPid = sc.child.pid;
    const barePid = bare.child.pid;
    const idle = {
      sidecar: await rssOf(sidecarPid),
      bare: await rssOf(barePid),
      sidecarHeapUsedMiB: await heapUsedMiB(sc.adminUrl),
    };

    process.stdout.write(`3/5 c=32 for ${LOAD_S} s, sidecar then bare proxy ...\n`);
    const sidecarTarget = { name: 'sidecar', url: sc.url, auth: ALICE, pid: sidecarPid };
    const bareTarget = { name: 'bare', url: bareUrl, auth: {}, pid: barePid };
    const loaded = {
      sidecar: await underLoad(sidecarTarget, LOAD_S, upstreamPid),
      bare: await underLoad(bareTarget, Math.min(LOAD_S, 30), upstreamPid),
    };

    process.stdout.write(
      `4/5 soak, ${SOAK_CLIENTS} clients opening and ending sessions for ${SOAK_S} s ...\n`,
    );
    const soaked = await soak(sidecarTarget, SOAK_S);
    const afterSoak = { rss: await rssOf(sidecarPid), heapUsedMiB: await heapUsedMiB(sc.adminUrl) };
    await sc.child.stop();

    process.stdout.write('5/5 allocation per call (--trace-gc-nvp), sidecar and bare proxy ...\n');
    const gcSidecar = await startSidecar(dir, upstreamUrl, [...flags, '--trace-gc-nvp']);
    children.push(gcSidecar.child);
    const sidecarAlloc = await allocationPerCall(
      { name: 'sidecar', url: gcSidecar.url, auth: ALICE, pid: gcSidecar.child.pid },
      gcSidecar.stdout,
      upstreamPid,
    );
    await gcSidecar.child.stop();
    const gcBare = await startHelper(dir, 'bare-proxy-gc', [
      ...flags,
      '--trace-gc-nvp',
      'test/bench/bare-proxy-process.ts',
      upstreamUrl,
    ]);
    children.push(gcBare.child);
    const bareAlloc = await allocationPerCall(
      { name: 'bare', url: gcBare.url, auth: {}, pid: gcBare.child.pid },
      gcBare.stdout,
      upstreamPid,
    );

    const result = {
      nodeFlags: flags,
      chartLimitMiB: limitMiB,
      startup: start,
      idle,
      load: loaded,
      soak: { ...soaked, after: afterSoak },
      allocation: {
        sidecarKbPerCall: sidecarAlloc.kbPerCall,
        bareKbPerCall: bareAlloc.kbPerCall,
        sidecar: sidecarAlloc,
        bare: bareAlloc,
      },
    };
    const rows: [string, string, string][] = [
      [
        'start-up: process start to /readyz (median; its CPU time)',
        `${fmt(start.readyMs, 0)} ms (${fmt(start.readyCpuMs, 0)} ms)`,
        '–',
      ],
      ['start-up: to the first tools/call answered (median)', `${fmt(start.firstCallMs, 0)} ms`, '–'],
      [
        'idle RSS (private + node binary pages)',
        `${fmt(idle.sidecar.rssMiB)} MiB (${fmt(idle.sidecar.anonMiB)} + ${fmt(idle.sidecar.fileMiB)})`,
        `${fmt(idle.bare.rssMiB)} MiB (${fmt(idle.bare.anonMiB)} + ${fmt(idle.bare.fileMiB)})`,
      ],
      ['idle V8 heap in use', `${fmt(idle.sidecarHeapUsedMiB)} MiB`, '–'],
      [
        `c=32 peak RSS (sidecar ${LOAD_S} s, bare ${Math.min(LOAD_S, 30)} s)`,
        `${fmt(loaded.sidecar.peakRssMiB)} MiB`,
        `${fmt(loaded.bare.peakRssMiB)} MiB`,
      ],
      [
        'c=32 calls, errors',
        `${loaded.sidecar.calls}, ${loaded.sidecar.errors}`,
        `${loaded.bare.calls}, ${loaded.bare.errors}`,
      ],
      [
        'c=32 CPU per call (noisy on a shared machine)',
        `${fmt(loaded.sidecar.cpuUsPerCall, 0)} µs`,
        `${fmt(loaded.bare.cpuUsPerCall, 0)} µs`,
      ],
      [
        `soak ${SOAK_S} s: RSS first fifth → last fifth`,
        `${fmt(soaked.firstFifthRssMiB)} → ${fmt(soaked.lastFifthRssMiB)} MiB (${soaked.growthMiB >= 0 ? '+' : ''}${fmt(soaked.growthMiB)})`,
        '–',
      ],
      ['soak sessions, calls, errors', `${soaked.sessions}, ${soaked.calls}, ${soaked.errors}`, '–'],
      ['allocation per call (c=8)', `${fmt(sidecarAlloc.kbPerCall)} KB`, `${fmt(bareAlloc.kbPerCall)} KB`],
    ];
    process.stdout.write('\n| measure | sidecar | bare proxy |\n| --- | --- | --- |\n');
    for (const [a, b, c] of rows) process.stdout.write(`| ${a} | ${b} | ${c} |\n`);
    const targets: [string, boolean][] = [
      ['idle RSS <= 64 MiB', idle.sidecar.rssMiB <= 64],
      ['c=32 RSS <= 128 MiB', loaded.sidecar.peakRssMiB <= 128],
      [`c=32 RSS within the chart's limit (${limitMiB} MiB)`, loaded.sidecar.peakRssMiB < limitMiB],
      ['soak flat (growth < 5% of RSS)', soaked.growthMiB < 0.05 * soaked.firstFifthRssMiB],
      ['allocation per call <= 28 KB (half of 56 KB)', sidecarAlloc.kbPerCall <= 28],
      [
        'every call answered with a result',
        loaded.sidecar.errors + soaked.errors + sidecarAlloc.errors === 0,
      ],
    ];
    process.stdout.write('\n');
    for (const [name, ok] of targets) process.stdout.write(`${ok ? 'met   ' : 'MISSED'} ${name}\n`);
    await mkdir(join(ROOT, 'bench-results'), { recursive: true });
    await writeFile(
      join(ROOT, 'bench-results/memory.json'),
      `${JSON.stringify({ ...result, targets: Object.fromEntries(targets) }, null, 2)}\n`,
    );
    process.stdout.write('\nwrote bench-results/memory.json\n');
  } finally {
    await Promise.all(children.map((c) => c.stop()));
    await rm(dir, { recursive: true, force: true });
  }
}

await main();
