import type { ChildProcess } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import type { AuditSinkConfig } from '../../sidecar/src/audit/config.ts';
import type { SidecarConfig } from '../../sidecar/src/config/schema.ts';
import { freePort } from '../../sidecar/src/quickstart/everything.ts';
import { allow, KEYS, rawConfig } from '../integration/sidecar/support/harness.ts';
import { stopChild, waitUntilServing } from '../support/child-process.ts';
import { type LoadResult, runLoad } from './load.ts';
import { startProcess } from './processes.ts';

// npm run bench:sidecar — the same upstream measured directly and through the sidecar, side by side
// in one run. Part 1: API-key authentication, a compiled policy with CEL and audit to a file sink, at
// several concurrencies (targets, ARCHITECTURE §6: added p50 < 0.5 ms, p99 < 2 ms, >= 70% of direct).
// Part 2: the audit cost per sink at one concurrency: audit off, stdout, file, syslog (TCP), HTTP
// (HEC) and OTLP logs, the network sinks' receivers in their own process. Upstream, sidecar,
// receivers and load generator are separate processes, as in a pod. Writes bench-results/sidecar.json.
//
// Knobs: BENCH_CONCURRENCY (1,8,32), BENCH_DURATION_MS (4000) for part 1; BENCH_SINKS
// (off,stdout,file,syslog,http,otlp; empty skips part 2), BENCH_SINK_CONCURRENCY (8),
// BENCH_SINK_DURATION_MS (BENCH_DURATION_MS); BENCH_AUDIT_SINK=stdout, BENCH_TRACING=off,
// BENCH_CPU_PROF=DIR for part 1's sidecar.

const list = (v: string) => v.split(',').filter((s) => s.trim() !== '');
const CONCURRENCY = list(process.env.BENCH_CONCURRENCY ?? '1,8,32').map(Number);
const DURATION_MS = Number(process.env.BENCH_DURATION_MS ?? 4000);
const SINKS = list(process.env.BENCH_SINKS ?? 'off,stdout,file,syslog,http,otlp');
const SINK_CONCURRENCY = Number(process.env.BENCH_SINK_CONCURRENCY ?? 8);
const SINK_DURATION_MS = Number(process.env.BENCH_SINK_DURATION_MS ?? DURATION_MS);
const WARMUP = 300;
const SIDECAR_ENV = { OTEL_SDK_DISABLED: 'true', ...process.env, LOG_LEVEL: 'warn' };

interface Receivers {
  syslogPort: number;
  hecUrl: string;
  hecToken: string;
  otlpUrl: string;
}

interface Compared {
  direct: LoadResult;
  sidecar: LoadResult;
  addedP50Ms: number;
  addedP99Ms: number;
  throughputRatio: number;
}

const fmt = (n: number, d = 3) => n.toFixed(d);

async function sidecarConfigFile(
  dir: string,
  name: string,
  upstreamUrl: string,
  sinks: AuditSinkConfig[] | undefined,
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
  cfg.listen = { host: '127.0.0.1', port, path: '/mcp' };
  cfg.admin = { host: '127.0.0.1', port: adminPort };
  const file = join(dir, `${name}.yaml`);
  await writeFile(file, stringify(cfg));
  return { file, url: `http://127.0.0.1:${port}/mcp`, adminUrl: `http://127.0.0.1:${adminPort}` };
}

/** Direct, then through the sidecar, at one concurrency: the pair every row compares. */
async function compare(upstreamUrl: string, sidecarUrl: string, c: number, ms: number, pid?: number) {
  const direct = await runLoad({
    target: 'direct',
    url: upstreamUrl,
    auth: {},
    concurrency: c,
    durationMs: ms,
    warmup: WARMUP,
  });
  const sidecar = await runLoad({
    target: 'sidecar',
    url: sidecarUrl,
    auth: { 'x-api-key': KEYS.alice },
    concurrency: c,
    durationMs: ms,
    warmup: WARMUP,
    pid,
  });
  return {
    direct,
    sidecar,
    addedP50Ms: sidecar.p50Ms - direct.p50Ms,
    addedP99Ms: sidecar.p99Ms - direct.p99Ms,
    throughputRatio: sidecar.rps / direct.rps,
  } satisfies Compared;
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
    const pair = await compare(upstreamUrl, sc.url, SINK_CONCURRENCY, SINK_DURATION_MS, child.pid);
    // Every message through the sidecar is one event: initialize, initialized, warm-up and measured calls.
    const expected = pair.sidecar.requests + WARMUP + 2;
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
            (r.sidecar.sidecarCpuUsPerRequest ?? Number.NaN) -
            (off.sidecar.sidecarCpuUsPerRequest ?? Number.NaN),
        }
      : {}),
  }));
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
    const rows = [];
    for (const c of CONCURRENCY)
      rows.push({ concurrency: c, ...(await compare(upstreamUrl, sc.url, c, DURATION_MS, main.child.pid)) });
    await stopChild(main.child);
    console.log(
      `\ntools/call, same upstream, direct vs through the sidecar (authn + policy with CEL + audit to ${part1Sink.type})\n`,
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

    // Part 2: one sidecar per sink, same load.
    const sinkRows = SINKS.length > 0 ? await perSink(dir, upstreamUrl, children) : [];
    if (sinkRows.length > 0) {
      console.log(
        `\naudit cost per sink: tools/call at concurrency ${SINK_CONCURRENCY}, ${SINK_DURATION_MS} ms each; ` +
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
            `${fmt(r.sidecar.sidecarCpuUsPerRequest ?? Number.NaN, 0)} us${cpuAudit} | ${events} | ` +
            `${r.direct.errors + r.sidecar.errors}`,
        );
      }
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
      sinks: { concurrency: SINK_CONCURRENCY, durationMs: SINK_DURATION_MS, rows: sinkRows },
    };
    await writeFile('bench-results/sidecar.json', `${JSON.stringify(out, null, 2)}\n`);
    console.log('\nwrote bench-results/sidecar.json');
  } finally {
    await Promise.all(children.map((c) => stopChild(c)));
    await rm(dir, { recursive: true, force: true });
  }
}

await main();
