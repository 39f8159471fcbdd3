import type { ChildProcess } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import type { AuditSinkConfig } from '../../sidecar/src/contract/audit.ts';
import type { SidecarConfig } from '../../sidecar/src/contract/config.ts';
import { freePort } from '../../sidecar/src/quickstart/everything.ts';
import { stopChild, waitUntilServing } from '../support/child-process.ts';
import { allow, KEYS, rawConfig } from '../support/harness.ts';
import { type LoadResult, type LoadTarget, runLoad } from './load.ts';
import { startProcess } from './processes.ts';
import { benchStdio, printStdio } from './stdio.ts';
import { runWrk, wrkAvailable } from './wrk.ts';

// npm run bench:sidecar — the same upstream measured directly and through the sidecar, side by side
// in one run, with two yardsticks measured the same way: a bare Node proxy (node:http + undici,
// nothing else), for what any Node proxy costs on this machine, and in the latency rows a TCP relay
// (no HTTP), for what one more process on the path costs. Method and figures: docs/performance.md.
// Part 1: API-key authentication, a compiled policy with CEL and audit to a file sink (targets,
// ARCHITECTURE §6: added p50 < 0.5 ms, p99 < 2 ms, throughput >= 70% of direct):
//   - latency, paired: direct, sidecar and yardstick calls alternate in one run, one caller at a time
//     and at fixed rates below saturation, so a pause elsewhere on the machine hits all alike and
//     what a call adds is the proxy's own, not a queue. The latency targets apply to these rows.
//   - throughput: each target alone at several concurrencies, in rounds (ratios are the median
//     round's). The highest concurrency saturates the machine: the throughput target applies there.
//     Latency in these rows is mostly waiting for one of the cores all processes share.
// Part 2: the audit cost per sink: audit off, stdout, file, syslog (TCP), HTTP (HEC) and OTLP logs,
// one sidecar each, the network sinks' receivers in their own process, every event counted.
// Upstream, sidecars, receivers and load generator are separate processes, as in a pod.
// Writes bench-results/sidecar.json.
//
// Knobs: BENCH_RATES (100,300 calls/s per target), BENCH_CONCURRENCY (1,8,32; empty: latency rows
// only), BENCH_ROUNDS (5), BENCH_DURATION_MS (3000 per run), BENCH_WARMUP_MS (15000),
// BENCH_ROW_WARMUP_MS (5000), BENCH_LOAD_GENERATOR (auto: wrk when installed; wrk; node),
// BENCH_BARE=off (no yardsticks), BENCH_AUDIT_SINK=stdout, BENCH_TRACING=off, BENCH_CPU_PROF=DIR
// (part 1's sidecar); BENCH_SINKS (off,stdout,file,syslog,http,otlp; empty skips part 2),
// BENCH_SINK_CONCURRENCY (8), BENCH_SINK_ROUNDS (3), BENCH_SINK_DURATION_MS (BENCH_DURATION_MS),
// BENCH_SINK_WARMUP_MS (5000). Part 3, stdio (stdio.ts): BENCH_STDIO=off skips it. BENCH_PINNING=off skips
// part 4 (tools/list, pinning Off vs TrustOnFirstUse, with the sink knobs for concurrency, rounds and durations).

const list = (v: string) => v.split(',').filter((s) => s.trim() !== '');
const RATES = list(process.env.BENCH_RATES ?? '100,300').map(Number);
const CONCURRENCY = list(process.env.BENCH_CONCURRENCY ?? '1,8,32').map(Number);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);
const BARE = process.env.BENCH_BARE !== 'off';
/** Connections for the open-loop rows: enough that a call never waits for one. */
const OPEN_LOOP_CONNECTIONS = 32;
const DURATION_MS = Number(process.env.BENCH_DURATION_MS ?? 3000);
const SINKS = list(process.env.BENCH_SINKS ?? 'off,stdout,file,syslog,http,otlp');
const SINK_CONCURRENCY = Number(process.env.BENCH_SINK_CONCURRENCY ?? 8);
const SINK_DURATION_MS = Number(process.env.BENCH_SINK_DURATION_MS ?? DURATION_MS);
const SINK_WARMUP_MS = Number(process.env.BENCH_SINK_WARMUP_MS ?? 5000);
const SINK_ROUNDS = Number(process.env.BENCH_SINK_ROUNDS ?? 3);
/** Part 3, pinning off vs on under tools/list load (BENCH_PINNING=off skips it); sink knobs for its shape. */
const PINNING = process.env.BENCH_PINNING !== 'off';
const WARMUP = 300;
const WARMUP_MS = Number(process.env.BENCH_WARMUP_MS ?? 15_000);
/** Each latency row first runs its own load this long (see LoadOptions.warmupMs). */
const ROW_WARMUP_MS = Number(process.env.BENCH_ROW_WARMUP_MS ?? 5000);
const LOAD_GENERATOR = process.env.BENCH_LOAD_GENERATOR ?? 'auto';
const SIDECAR_ENV = { OTEL_SDK_DISABLED: 'true', ...process.env, LOG_LEVEL: 'warn' };

interface Receivers {
  syslogPort: number;
  hecUrl: string;
  hecToken: string;
  otlpUrl: string;
}

interface Yardstick {
  result: LoadResult;
  addedP50Ms: number;
  addedP99Ms: number;
  throughputRatio: number;
}

interface Compared {
  direct: LoadResult;
  sidecar: LoadResult;
  addedP50Ms: number;
  addedP99Ms: number;
  throughputRatio: number;
  /** The bare proxy (yardstick) under the same load, when measured. */
  bare?: Yardstick;
  /** The TCP relay (the hop alone), in the paired rows, when measured. */
  relay?: Yardstick;
}

const fmt = (n: number, d = 3) => n.toFixed(d);

async function sidecarConfigFile(
  dir: string,
  name: string,
  upstreamUrl: string,
  sinks: AuditSinkConfig[] | undefined,
  pinning?: SidecarConfig['pinning'],
): Promise<{ file: string; url: string; adminUrl: string }> {
  const [port, adminPort] = [await freePort(), await freePort()];
  const cfg: SidecarConfig = rawConfig({
    upstream: { transport: 'streamable-http', url: upstreamUrl },
    rules: [
      allow('alice-alpha', { subjects: [{ user: 'alice' }], tools: ['alpha'], when: 'arguments.n < 10' }),
    ],
    ...(sinks ? { audit: { sinks } } : {}),
  });
  if (process.env.BENCH_TRACING === 'off') cfg.telemetry = { tracing: { enabled: false } };
  if (pinning !== undefined) cfg.pinning = pinning;
  cfg.listen = { host: '127.0.0.1', port, path: '/mcp' };
  cfg.admin = { host: '127.0.0.1', port: adminPort };
  const file = join(dir, `${name}.yaml`);
  await writeFile(file, stringify(cfg));
  return { file, url: `http://127.0.0.1:${port}/mcp`, adminUrl: `http://127.0.0.1:${adminPort}` };
}

interface Load {
  concurrency: number;
  rate?: number;
  /** Interleave the targets' calls in one run (latency) or run each target alone in turn (throughput). */
  paired: boolean;
  /** Unpaired loads only: generate them with wrk instead of the Node load generator. */
  wrk?: boolean;
  /** Paired loads: the same load run this long, unmeasured, before the first round. */
  warmupMs?: number;
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] ?? Number.NaN;
};

/** Rounds of one target merged: medians of the latencies, means of the rates. */
function merge(rounds: LoadResult[]): LoadResult {
  const first = rounds[0];
  if (first === undefined) throw new Error('no rounds to merge');
  const mean = (f: (r: LoadResult) => number) => rounds.reduce((n, r) => n + f(r), 0) / rounds.length;
  const cpu = rounds.map((r) => r.cpuUsPerRequest);
  return {
    ...first,
    requests: rounds.reduce((n, r) => n + r.requests, 0),
    errors: rounds.reduce((n, r) => n + r.errors, 0),
    p50Ms: median(rounds.map((r) => r.p50Ms)),
    p99Ms: median(rounds.map((r) => r.p99Ms)),
    rps: mean((r) => r.rps),
    ...(cpu.every((c) => c !== undefined) ? { cpuUsPerRequest: mean((r) => r.cpuUsPerRequest ?? 0) } : {}),
    sharedCpuUsPerRequest: {
      loadGenerator: mean((r) => r.sharedCpuUsPerRequest?.loadGenerator ?? Number.NaN),
      upstream: mean((r) => r.sharedCpuUsPerRequest?.upstream ?? Number.NaN),
    },
  };
}

interface Targets {
  upstreamUrl: string;
  upstreamPid?: number | undefined;
  sidecarUrl: string;
  sidecarPid?: number | undefined;
  /** The yardsticks measured beside the sidecar: the bare proxy, and the TCP relay in paired rows. */
  bareUrl?: string | undefined;
  barePid?: number | undefined;
  relayUrl?: string | undefined;
  relayPid?: number | undefined;
}

/**
 * Direct, through the sidecar (as alice), through the bare proxy when there is one, and in paired
 * rows through the TCP relay: in that order.
 */
function loadTargets(t: Targets, paired = false): LoadTarget[] {
  return [
    { name: 'direct', url: t.upstreamUrl, auth: {} },
    { name: 'sidecar', url: t.sidecarUrl, auth: { 'x-api-key': KEYS.alice }, pid: t.sidecarPid },
    ...(t.bareUrl ? [{ name: 'bare', url: t.bareUrl, auth: {}, pid: t.barePid }] : []),
    ...(paired && t.relayUrl ? [{ name: 'relay', url: t.relayUrl, auth: {}, pid: t.relayPid }] : []),
  ];
}

/**
 * Direct and through the sidecar (and the bare proxy) under one load: what every row compares.
 * Unpaired loads run each target alone, one after the other, `rounds` times; ratios are the median
 * round's, so a slow spell of the machine during one run does not decide the row.
 */
async function compare(t: Targets, load: Load, ms: number, rounds = 1): Promise<Compared> {
  const targets = loadTargets(t, load.paired);
  const common = {
    concurrency: load.concurrency,
    rate: load.rate,
    durationMs: ms,
    warmup: WARMUP,
    upstreamPid: t.upstreamPid,
    warmupMs: load.warmupMs,
  };
  const runs: LoadResult[][] = [];
  if (load.paired)
    // Rounds here too: latencies are the median round's, so one spell of upstream pauses does not
    // decide a p99. Only the first round runs the row's warm-up.
    for (let i = 0; i < rounds; i++)
      runs.push(await runLoad({ ...common, targets, warmupMs: i === 0 ? common.warmupMs : undefined }));
  else
    for (let i = 0; i < rounds; i++) {
      const round: LoadResult[] = [];
      for (const target of targets)
        round.push(
          load.wrk
            ? await runWrk({ ...common, target })
            : ((await runLoad({ ...common, targets: [target] }))[0] as LoadResult),
        );
      runs.push(round);
    }
  const at = (name: string) => targets.findIndex((x) => x.name === name);
  const of = (name: string) => merge(runs.map((r) => r[at(name)] as LoadResult));
  const ratio = (name: string) =>
    median(runs.map((r) => (r[at(name)] as LoadResult).rps / (r[0] as LoadResult).rps));
  const [direct, sidecar] = [of('direct'), of('sidecar')];
  const vs = (r: LoadResult, throughputRatio: number) => ({
    addedP50Ms: r.p50Ms - direct.p50Ms,
    addedP99Ms: r.p99Ms - direct.p99Ms,
    throughputRatio,
  });
  const yardstick = (name: 'bare' | 'relay'): Pick<Compared, typeof name> => {
    if (at(name) === -1) return {};
    const result = of(name);
    return { [name]: { result, ...vs(result, ratio(name)) } };
  };
  return {
    direct,
    sidecar,
    ...vs(sidecar, ratio('sidecar')),
    ...yardstick('bare'),
    ...yardstick('relay'),
  };
}

function sinkConfig(kind: string, dir: string, r: Receivers): AuditSinkConfig[] | undefined {
  switch (kind) {
    case 'off':
      return undefined;
    case 'stdout':
      return [{ type: 'stdout' }];
    case 'file':
      return [{ type: 'file', path: join(dir, 'audit-file.ndjson'), maxBytes: 256 * 1024 * 1024 }];
    case 'syslog':
      return [{ type: 'syslog', host: '127.0.0.1', port: r.syslogPort, transport: 'tcp' }];
    case 'http':
      return [{ type: 'http', url: r.hecUrl, token: { env: 'BENCH_HEC_TOKEN' } }];
    case 'otlp':
      return [{ type: 'otlp', endpoint: r.otlpUrl }];
    default:
      throw new Error(`BENCH_SINKS: unknown sink '${kind}' (off, stdout, file, syslog, http, otlp)`);
  }
}

/** Audit events per result once the sidecar's queues are empty (or after 15 s). */
async function auditCounts(
  adminUrl: string,
): Promise<{ delivered: number; dropped: number; queued: number }> {
  const sum = (page: string, prefix: string, match = '') =>
    page
      .split('\n')
      .filter((l) => l.startsWith(prefix) && l.includes(match))
      .reduce((n, l) => n + Number(l.slice(l.lastIndexOf(' ') + 1)), 0);
  let page = '';
  for (let i = 0; i < 150; i++) {
    page = await fetch(`${adminUrl}/metrics`).then((r) => r.text());
    if (sum(page, 'portcullis_sidecar_audit_queue_depth') === 0) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  const events = 'portcullis_sidecar_audit_events_total{';
  return {
    delivered: sum(page, events, 'result="delivered"'),
    dropped: sum(page, events, 'result="dropped"'),
    queued: sum(page, 'portcullis_sidecar_audit_queue_depth'),
  };
}

async function perSink(dir: string, upstreamUrl: string, children: ChildProcess[]) {
  const rec = startProcess(['test/bench/audit-receivers-process.ts']);
  children.push(rec.child);
  const receivers = JSON.parse(await rec.firstLine) as Receivers;
  const rows = [];
  for (const kind of SINKS) {
    const sc = await sidecarConfigFile(dir, `sink-${kind}`, upstreamUrl, sinkConfig(kind, dir, receivers));
    const args = [
      'test/bench/sidecar-process.ts',
      '--config',
      sc.file,
      '--audit',
      kind === 'off' ? 'off' : 'config',
    ];
    const { child } = startProcess(args, {
      env: { ...SIDECAR_ENV, BENCH_HEC_TOKEN: receivers.hecToken },
      stdout: 'ignore',
    });
    children.push(child);
    await waitUntilServing(child, `${sc.adminUrl}/readyz`);
    const targets: Targets = { upstreamUrl, sidecarUrl: sc.url, sidecarPid: child.pid };
    const [warm] = await runLoad({
      targets: loadTargets(targets).filter((x) => x.name === 'sidecar'),
      concurrency: SINK_CONCURRENCY,
      durationMs: SINK_WARMUP_MS,
      warmup: WARMUP,
    });
    const pair = await compare(
      targets,
      { concurrency: SINK_CONCURRENCY, paired: false },
      SINK_DURATION_MS,
      SINK_ROUNDS,
    );
    // Every message through the sidecar is one event: per run (the warm-up's and each round's)
    // initialize, initialized, warm-up and measured calls (ending the session is recorded only when
    // refused).
    const expected = (warm?.requests ?? 0) + pair.sidecar.requests + (SINK_ROUNDS + 1) * (WARMUP + 2);
    const audit = kind === 'off' ? undefined : { expected, ...(await auditCounts(sc.adminUrl)) };
    await stopChild(child);
    rows.push({ sink: kind, ...pair, ...(audit ? { audit } : {}) });
  }
  const off = rows.find((r) => r.sink === 'off');
  return rows.map((r) => ({
    ...r,
    // The audit's own share: this sink's sidecar against the sidecar with audit off.
    ...(off && r !== off
      ? {
          auditP50Ms: r.sidecar.p50Ms - off.sidecar.p50Ms,
          auditP99Ms: r.sidecar.p99Ms - off.sidecar.p99Ms,
          auditCpuUsPerRequest:
            (r.sidecar.cpuUsPerRequest ?? Number.NaN) - (off.sidecar.cpuUsPerRequest ?? Number.NaN),
        }
      : {}),
  }));
}

/**
 * Part 3: `tools/list`-heavy load through two sidecars, pinning Off and TrustOnFirstUse, their calls
 * interleaved in one closed-loop run so the machine's spells hit both alike. Issue #15's target:
 * pinning costs less than 5% of throughput.
 */
async function pinningRows(dir: string, upstreamUrl: string, children: ChildProcess[]) {
  const targets: LoadTarget[] = [];
  for (const mode of ['Off', 'TrustOnFirstUse'] as const) {
    const sc = await sidecarConfigFile(dir, `pinning-${mode}`, upstreamUrl, undefined, { mode });
    const { child } = startProcess(['test/bench/sidecar-process.ts', '--config', sc.file, '--audit', 'off'], {
      env: SIDECAR_ENV,
      stdout: 'ignore',
    });
    children.push(child);
    await waitUntilServing(child, `${sc.adminUrl}/readyz`);
    targets.push({ name: `pinning ${mode}`, url: sc.url, auth: { 'x-api-key': KEYS.alice }, pid: child.pid });
  }
  const common = { targets, concurrency: SINK_CONCURRENCY, warmup: WARMUP, method: 'tools/list' as const };
  await runLoad({ ...common, durationMs: SINK_WARMUP_MS });
  const rounds: LoadResult[][] = [];
  for (let i = 0; i < SINK_ROUNDS; i++)
    rounds.push(await runLoad({ ...common, durationMs: SINK_DURATION_MS }));
  const [off, on] = [0, 1].map((i) => merge(rounds.map((r) => r[i] as LoadResult))) as [
    LoadResult,
    LoadResult,
  ];
  return { concurrency: SINK_CONCURRENCY, off, on, throughputRatio: on.rps / off.rps };
}

const TARGETS = { addedP50Ms: 0.5, addedP99Ms: 2, throughputRatio: 0.7 };

type Row = Compared & { load: string };

/**
 * ARCHITECTURE §6 against this run: latency from the paired rows, throughput at the highest
 * concurrency. A latency row where the bare proxy, which does nothing but pass the call on, misses
 * the target too measures this machine's cost of a hop (processes waking from idle at low rates,
 * the upstream's pauses), not the sidecar: it is printed, named in the verdict, and not decisive.
 * The verdict needs at least one decisive row.
 */
function verdicts(latencyRows: Row[], throughputRows: Row[]) {
  const out = [];
  for (const [k, label] of [
    ['addedP50Ms', 'added p50'],
    ['addedP99Ms', 'added p99'],
  ] as const) {
    const decisive = latencyRows.filter((r) => r.bare === undefined || r.bare[k] < TARGETS[k]);
    const machineBound = latencyRows.filter((r) => !decisive.includes(r));
    const worst = decisive.reduce<Row | undefined>((w, r) => (w && w[k] >= r[k] ? w : r), undefined);
    const bound =
      machineBound.length === 0
        ? ''
        : `; not decisive, as the bare proxy misses it too: ${machineBound
            .map((r) => `${r.load} ${fmt(r[k])} ms (bare ${fmt(r.bare?.[k] ?? Number.NaN)} ms)`)
            .join(', ')}`;
    out.push({
      target: `${label} < ${TARGETS[k]} ms below saturation`,
      measured:
        (worst
          ? `worst ${fmt(worst[k])} ms (${worst.load})` +
            (worst.bare ? `; the bare proxy ${fmt(worst.bare[k])} ms in the same row` : '')
          : 'no decisive row') + bound,
      met: worst !== undefined && worst[k] < TARGETS[k],
    });
  }
  const saturated = throughputRows.at(-1);
  if (saturated)
    out.push({
      target: `throughput >= ${TARGETS.throughputRatio * 100}% of direct at saturation`,
      measured:
        `${fmt(saturated.throughputRatio * 100, 1)}% (${saturated.load})` +
        (saturated.bare ? `; the bare proxy ${fmt(saturated.bare.throughputRatio * 100, 1)}%` : ''),
      met: saturated.throughputRatio >= TARGETS.throughputRatio,
    });
  return out;
}

/**
 * Each target at the highest concurrency (OPEN_LOOP_CONNECTIONS when only latency rows run),
 * unmeasured: the sidecar WARMUP_MS, the others a third.
 */
async function warmUp(t: Targets, wrk: boolean): Promise<void> {
  const concurrency = Math.max(...CONCURRENCY, OPEN_LOOP_CONNECTIONS);
  for (const target of loadTargets(t)) {
    const durationMs = target.name === 'sidecar' ? WARMUP_MS : WARMUP_MS / 3;
    if (wrk) await runWrk({ target, concurrency, durationMs });
    else await runLoad({ targets: [target], concurrency, durationMs, warmup: WARMUP });
  }
}

async function main(): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'portcullis-bench-'));
  const children: ChildProcess[] = [];
  try {
    const up = startProcess(['test/bench/echo-upstream-process.ts']);
    children.push(up.child);
    const upstreamUrl = (await up.firstLine).slice(4);

    // Part 1: the real entry point (main.ts), authn + policy + audit, at each concurrency.
    const part1Sink: AuditSinkConfig =
      process.env.BENCH_AUDIT_SINK === 'stdout'
        ? { type: 'stdout' }
        : { type: 'file', path: join(dir, 'audit.ndjson') };
    const sc = await sidecarConfigFile(dir, 'main', upstreamUrl, [part1Sink]);
    const prof = process.env.BENCH_CPU_PROF
      ? ['--cpu-prof', '--cpu-prof-dir', process.env.BENCH_CPU_PROF]
      : [];
    const main = startProcess([...prof, 'sidecar/src/main.ts', '--config', sc.file], {
      env: SIDECAR_ENV,
      stdout: 'ignore',
    });
    children.push(main.child);
    await waitUntilServing(main.child, `${sc.adminUrl}/readyz`);
    const bare = BARE ? startProcess(['test/bench/bare-proxy-process.ts', upstreamUrl]) : undefined;
    const relay = BARE ? startProcess(['test/bench/tcp-relay-process.ts', upstreamUrl]) : undefined;
    for (const yardstick of [bare, relay]) if (yardstick) children.push(yardstick.child);
    const targets = {
      upstreamUrl,
      upstreamPid: up.child.pid,
      sidecarUrl: sc.url,
      sidecarPid: main.child.pid,
      bareUrl: bare ? (await bare.firstLine).slice(4) : undefined,
      barePid: bare?.child.pid,
      relayUrl: relay ? (await relay.firstLine).slice(4) : undefined,
      relayPid: relay?.child.pid,
    };
    const wrk = LOAD_GENERATOR !== 'node' && (await wrkAvailable());
    if (!wrk && LOAD_GENERATOR === 'wrk') throw new Error('BENCH_LOAD_GENERATOR=wrk: wrk is not installed');
    console.log(
      wrk
        ? 'throughput rows: load from wrk (C); latency rows: the Node load generator, calls paired'
        : 'throughput rows: load from the Node load generator, which shares the cores with what it measures ' +
            '(install the Debian package wrk for a native one)',
    );
    // Steady state first: V8 keeps optimising the sidecar's hot paths for about 15 s of full load,
    // and a pod serves for hours, so what a cold process costs is not what the targets are about.
    console.log(
      `warming up: ${WARMUP_MS} ms through the sidecar, a third of that direct and through the bare proxy`,
    );
    await warmUp(targets, wrk);
    const run = (load: Load) => compare(targets, { wrk, ...load }, DURATION_MS, ROUNDS);
    const oneCaller = { concurrency: 1, paired: true, warmupMs: ROW_WARMUP_MS };
    const latencyRows: Row[] = [{ load: 'c=1 paired', ...(await run(oneCaller)) }];
    for (const rate of RATES) {
      const load = { concurrency: OPEN_LOOP_CONNECTIONS, rate, paired: true, warmupMs: ROW_WARMUP_MS };
      latencyRows.push({ load: `${rate}/s paired`, ...(await run(load)) });
    }
    const throughputRows: Row[] = [];
    for (const c of [...CONCURRENCY].sort((a, b) => a - b))
      throughputRows.push({ load: `c=${c}`, ...(await run({ concurrency: c, paired: false })) });
    await stopChild(main.child);
    console.log(
      `\ntools/call, same upstream, direct vs through the sidecar (authn + policy with CEL + audit to ${part1Sink.type})`,
    );
    console.log(
      'paired: direct, sidecar and yardstick calls alternate in one run (latency); c=N: each alone, N callers, in rounds (throughput)',
    );
    console.log(
      'bare proxy: node:http + undici and nothing else, measured the same way: what any Node proxy costs here\n',
    );
    console.log(
      'load         | direct p50/p99 ms  rps   | sidecar p50/p99 ms  rps   | added p50/p99 ms | ratio | sidecar CPU/req | errors' +
        (targets.bareUrl ? ' | bare proxy: added p50/p99 ms, ratio, CPU/req' : ''),
    );
    // Paired rows share one load generator between both targets: their throughput ratio means nothing.
    const paired = (r: Row) => latencyRows.includes(r);
    const pct = (x: number) => `${fmt(x * 100, 1)}%`;
    const line = (r: Row) =>
      console.log(
        `${r.load.padEnd(12)} | ${fmt(r.direct.p50Ms)}/${fmt(r.direct.p99Ms)} ${fmt(r.direct.rps, 0).padStart(6)} | ` +
          `${fmt(r.sidecar.p50Ms)}/${fmt(r.sidecar.p99Ms)} ${fmt(r.sidecar.rps, 0).padStart(6)} | ` +
          `${fmt(r.addedP50Ms)}/${fmt(r.addedP99Ms)} | ${paired(r) ? '   -  ' : pct(r.throughputRatio)} | ` +
          `${fmt(r.sidecar.cpuUsPerRequest ?? Number.NaN, 0)} us | ${r.direct.errors + r.sidecar.errors}` +
          (r.bare
            ? ` | ${fmt(r.bare.addedP50Ms)}/${fmt(r.bare.addedP99Ms)} ${paired(r) ? '' : pct(r.bare.throughputRatio)} ` +
              `${fmt(r.bare.result.cpuUsPerRequest ?? Number.NaN, 0)} us`
            : ''),
      );
    for (const r of [...latencyRows, ...throughputRows]) line(r);
    // Where the machine's cores went per call, for the rows where each target ran alone.
    console.log('\nCPU per call of the shared processes (throughput rows): load generator, upstream');
    const shared = (x: LoadResult) =>
      `${fmt(x.sharedCpuUsPerRequest?.loadGenerator ?? Number.NaN, 0)}/${fmt(x.sharedCpuUsPerRequest?.upstream ?? Number.NaN, 0)} us`;
    for (const r of throughputRows)
      console.log(
        `${r.load.padEnd(12)} | direct ${shared(r.direct)} | sidecar ${shared(r.sidecar)}` +
          (r.bare ? ` | bare ${shared(r.bare.result)}` : ''),
      );
    // The added latency of the paired rows taken apart, each layer against the one below it.
    if (latencyRows.some((r) => r.relay && r.bare)) {
      console.log(
        '\nadded p50 of the paired rows, taken apart: the hop alone (a TCP relay, no HTTP) | HTTP in Node ' +
          "(bare proxy - relay) | the sidecar's own work (sidecar - bare proxy)",
      );
      for (const r of latencyRows)
        if (r.relay && r.bare)
          console.log(
            `${r.load.padEnd(12)} | hop ${fmt(r.relay.addedP50Ms)} ms | HTTP ${fmt(r.bare.addedP50Ms - r.relay.addedP50Ms)} ms | ` +
              `sidecar ${fmt(r.addedP50Ms - r.bare.addedP50Ms)} ms | relay CPU/req ${fmt(r.relay.result.cpuUsPerRequest ?? Number.NaN, 0)} us`,
          );
    }
    const verdict = verdicts(latencyRows, throughputRows);
    console.log('');
    for (const t of verdict) console.log(`${t.met ? 'met   ' : 'MISSED'} ${t.target}: ${t.measured}`);

    // Part 2: one sidecar per sink, same load.
    const sinkRows = SINKS.length > 0 ? await perSink(dir, upstreamUrl, children) : [];
    if (sinkRows.length > 0) {
      console.log(
        `\naudit cost per sink: tools/call at concurrency ${SINK_CONCURRENCY}, ${SINK_ROUNDS} rounds of ${SINK_DURATION_MS} ms; ` +
          'added = sidecar - direct; audit = sidecar - sidecar with audit off\n',
      );
      console.log(
        'sink   | sidecar p50/p99 ms  rps   | added p50/p99 ms | ratio | audit p50/p99 ms | CPU/req (audit) | events delivered/expected (dropped) | errors',
      );
      for (const r of sinkRows) {
        const audit = 'auditP50Ms' in r ? `${fmt(r.auditP50Ms ?? 0)}/${fmt(r.auditP99Ms ?? 0)}` : '-';
        const cpuAudit = 'auditCpuUsPerRequest' in r ? ` (${fmt(r.auditCpuUsPerRequest ?? 0, 0)})` : '';
        const events = r.audit ? `${r.audit.delivered}/${r.audit.expected} (${r.audit.dropped})` : '-';
        console.log(
          `${r.sink.padEnd(6)} | ${fmt(r.sidecar.p50Ms)}/${fmt(r.sidecar.p99Ms)} ${fmt(r.sidecar.rps, 0).padStart(6)} | ` +
            `${fmt(r.addedP50Ms)}/${fmt(r.addedP99Ms)} | ${fmt(r.throughputRatio * 100, 1)}% | ${audit.padEnd(16)} | ` +
            `${fmt(r.sidecar.cpuUsPerRequest ?? Number.NaN, 0)} us${cpuAudit} | ${events} | ` +
            `${r.direct.errors + r.sidecar.errors}`,
        );
      }
    }

    // Part 3: stdio through the launcher against Streamable HTTP, and session start-up (stdio.ts).
    const stdio = process.env.BENCH_STDIO === 'off' ? undefined : await benchStdio();
    if (stdio) printStdio(stdio, fmt);

    // Part 4: pinning on tools/list-heavy load.
    const pinning = PINNING ? await pinningRows(dir, upstreamUrl, children) : undefined;
    if (pinning !== undefined) {
      console.log(
        `\npinning: tools/list at concurrency ${pinning.concurrency}, the two sidecars interleaved, ${SINK_ROUNDS} rounds of ${SINK_DURATION_MS} ms\n`,
      );
      console.log('sidecar                 | p50/p99 ms    | rps    | CPU/req | errors');
      for (const r of [pinning.off, pinning.on])
        console.log(
          `${r.target.padEnd(23)} | ${fmt(r.p50Ms)}/${fmt(r.p99Ms)} | ${fmt(r.rps, 0).padStart(6)} | ` +
            `${fmt(r.cpuUsPerRequest ?? Number.NaN, 0)} us | ${r.errors}`,
        );
      const cost = 1 - pinning.throughputRatio;
      console.log(
        `${cost < 0.05 ? 'met   ' : 'MISSED'} pinning costs < 5% of tools/list throughput: ${fmt(cost * 100, 1)}%`,
      );
    }

    await mkdir('bench-results', { recursive: true });
    const out = {
      benchmark: 'sidecar',
      date: new Date().toISOString(),
      node: process.version,
      durationMs: DURATION_MS,
      rounds: ROUNDS,
      warmupMs: WARMUP_MS,
      loadGenerator: { latency: 'node', throughput: wrk ? 'wrk' : 'node' },
      loadAverage: (await readFile('/proc/loadavg', 'utf8').catch(() => '')).trim(),
      targets: verdict,
      latencyRows,
      throughputRows,
      sinks: { concurrency: SINK_CONCURRENCY, durationMs: SINK_DURATION_MS, rows: sinkRows },
      stdio,
      ...(pinning !== undefined ? { pinning } : {}),
    };
    await writeFile('bench-results/sidecar.json', `${JSON.stringify(out, null, 2)}\n`);
    console.log('\nwrote bench-results/sidecar.json');
  } finally {
    await Promise.all(children.map((c) => stopChild(c)));
    await rm(dir, { recursive: true, force: true });
  }
}

await main();
