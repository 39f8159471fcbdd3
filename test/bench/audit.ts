import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { Registry } from 'prom-client';
import { createAuditor } from '../../sidecar/src/audit/auditor.ts';
import type { AuditConfig, AuditSinkConfig } from '../../sidecar/src/contract/audit.ts';
import { createSidecarMetrics } from '../../sidecar/src/telemetry/metrics.ts';
import {
  startHecReceiver,
  startOtlpLogsReceiver,
  startSyslogTcpReceiver,
} from '../support/audit-receivers.ts';
import { callInput } from '../unit/sidecar/audit/builders.ts';

// npm run bench:audit: the audit cost per call for each sink on its own. open: time the proxy spends
// in record() (build, redact, hash, serialise, enqueue) and the sustained rate until every event is
// delivered; closed: the per-call wait until the sink has the event (p50/p99). Prints a table and
// writes bench-results/audit.json.

const N = Number(process.env.BENCH_AUDIT_EVENTS ?? 20_000);
const silent = { info() {}, warn() {}, error() {} };
const dir = mkdtempSync(join(tmpdir(), 'bench-audit-'));

const syslog = await startSyslogTcpReceiver();
const syslogPort = syslog.port;
const hec = await startHecReceiver('bench');
const otlp = await startOtlpLogsReceiver();

const sinks: Array<{ name: string; sink: AuditSinkConfig }> = [
  { name: 'stdout (pino → /dev/null)', sink: { type: 'stdout' } },
  { name: 'file', sink: { type: 'file', path: join(dir, 'audit.ndjson'), maxBytes: 64 * 1024 * 1024 } },
  { name: 'syslog tcp', sink: { type: 'syslog', host: '127.0.0.1', port: syslogPort, transport: 'tcp' } },
  { name: 'http (HEC)', sink: { type: 'http', url: hec.url, token: { env: 'HEC' } } },
  { name: 'otlp logs', sink: { type: 'otlp', endpoint: otlp.url } },
];

const quantile = (sorted: number[], q: number) =>
  sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? 0;

async function run(sink: AuditSinkConfig, mode: 'open' | 'closed', n: number) {
  const cfg: AuditConfig = {
    failureMode: mode,
    payloads: { capture: 'redacted' },
    queue: { maxEvents: n + 1 },
    sinks: [sink],
  };
  const auditor = createAuditor(cfg, {
    logger: silent,
    metrics: createSidecarMetrics(new Registry()),
    instanceId: 'bench',
    sinkDeps: { stdout: pino.destination({ dest: '/dev/null', sync: false }), env: { HEC: 'bench' } },
  });
  const input = callInput({
    arguments: { owner: 'acme', query: 'is:open label:bug', token: 'Bearer abcdefghijklmnop' },
  });
  const waits: number[] = [];
  let inRecord = 0;
  const start = process.hrtime.bigint();
  for (let i = 0; i < n; i++) {
    const t0 = process.hrtime.bigint();
    const p = auditor.record(input);
    const t1 = process.hrtime.bigint();
    inRecord += Number(t1 - t0);
    if (mode === 'closed') {
      await p;
      waits.push(Number(process.hrtime.bigint() - t0) / 1e6);
    } else if (i % 100 === 99) await new Promise((r) => setImmediate(r));
  }
  await auditor.close();
  const totalS = Number(process.hrtime.bigint() - start) / 1e9;
  waits.sort((a, b) => a - b);
  return {
    recordUs: inRecord / n / 1000,
    eventsPerSecond: n / totalS,
    ...(mode === 'closed' ? { p50Ms: quantile(waits, 0.5), p99Ms: quantile(waits, 0.99) } : {}),
  };
}

const results: Array<Record<string, unknown>> = [];
for (const { name, sink } of sinks) {
  await run(sink, 'open', 2000); // warm up JIT, connections
  const open = await run(sink, 'open', N);
  const closed = await run(sink, 'closed', Math.min(N, 2000));
  results.push({ sink: name, ...open, closedP50Ms: closed.p50Ms, closedP99Ms: closed.p99Ms });
}

const fmt = (v: unknown, digits = 1) => (typeof v === 'number' ? v.toFixed(digits) : String(v));
const rows = results.map((r) => [
  String(r.sink).padEnd(26),
  fmt(r.recordUs, 2).padStart(12),
  fmt(r.eventsPerSecond, 0).padStart(12),
  fmt(r.closedP50Ms, 3).padStart(14),
  fmt(r.closedP99Ms, 3).padStart(14),
]);
process.stdout.write(
  `audit cost per call, ${N} events per sink (open) / 2000 (closed)\n` +
    `${'sink'.padEnd(26)}${'record() µs'.padStart(12)}${'events/s'.padStart(12)}${'closed p50 ms'.padStart(14)}${'closed p99 ms'.padStart(14)}\n` +
    `${rows.map((r) => r.join('')).join('\n')}\n`,
);
const out = 'bench-results';
mkdirSync(out, { recursive: true });
writeFileSync(
  join(out, 'audit.json'),
  `${JSON.stringify({ events: N, node: process.version, results }, null, 2)}\n`,
);

await syslog.stop();
await hec.stop();
await otlp.stop();
rmSync(dir, { recursive: true, force: true });
