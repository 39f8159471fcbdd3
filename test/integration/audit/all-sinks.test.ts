import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAuditor } from '../../../sidecar/src/audit/auditor.ts';
import { verifyText } from '../../../sidecar/src/audit/verify.ts';
import type { AuditConfig } from '../../../sidecar/src/contract/audit.ts';
import { createSidecarMetrics } from '../../../sidecar/src/telemetry/metrics.ts';
import {
  type OtlpLogRecord,
  type Receiver,
  startHecReceiver,
  startOtlpLogsReceiver,
} from '../../support/audit-receivers.ts';
import { everySink } from '../../support/every-sink.ts';
import { type Rsyslog, startRsyslog } from '../../support/rsyslog.ts';
import { callInput } from '../../unit/sidecar/audit/builders.ts';

// 10,000 mixed calls (allowed and denied) through one auditor into every kind of sink at once: each
// sink must hold exactly 10,000 events, contiguous from seq 1, and the chain must verify. Then the
// verify command must name the line of an edited or deleted event.

const N = 10_000;
const TOKEN = 'hec-test-token';
const silent = { info() {}, warn() {}, error() {} };

let dir: string;
let rsyslog: Rsyslog;
let hec: Receiver;
let otlp: Receiver;
const otlpRecords: OtlpLogRecord[] = [];
const metrics = createSidecarMetrics(new Registry());
let stdoutFile: string;
let auditFile: string;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'portcullis-audit-'));
  rsyslog = await startRsyslog(dir);
  hec = await startHecReceiver(TOKEN);
  otlp = await startOtlpLogsReceiver(otlpRecords);
  stdoutFile = join(dir, 'stdout.ndjson');
  auditFile = join(dir, 'audit.ndjson');

  const cfg: AuditConfig = {
    payloads: { capture: 'redacted' },
    queue: { maxEvents: N, maxBatch: 500 },
    sinks: everySink({
      auditFile,
      otlpUrl: otlp.url,
      hecUrl: hec.url,
      rsyslog,
      fileRotation: { maxBytes: 1024 * 1024, maxFiles: 50 },
    }),
  };
  const auditor = createAuditor(cfg, {
    logger: silent,
    metrics,
    instanceId: 'itest-1',
    sinkDeps: {
      // pino's writer, pointed at a file instead of fd 1 so the test can read it back.
      stdout: pino.destination({ dest: stdoutFile, sync: false, minLength: 0, mkdir: true }),
      env: { TEST_HEC_TOKEN: TOKEN },
    },
  });
  for (let i = 0; i < N; i++) {
    const denied = i % 3 === 0;
    await auditor.record(
      callInput({
        jsonrpcId: i,
        outcome: denied ? 'denied' : 'allowed',
        decision: denied
          ? { effect: 'deny', reason: 'no rule matched' }
          : { effect: 'allow', rule: 'r', policy: 'p/q' },
        arguments: { query: `q${i}`, token: 'Bearer abcdefghijklmnop' },
        trace: { traceId: '0af7651916cd43dd8448eb211c80319c', spanId: i.toString(16).padStart(16, '0') },
      }),
    );
    // Calls arrive over time, not in one synchronous burst: let the sinks run between them.
    if (i % 100 === 99) await new Promise((r) => setImmediate(r));
  }
  await auditor.close();
  // rsyslog writes asynchronously to its files: wait until it has everything it received.
  for (let i = 0; i < 400; i++) {
    if (rsyslog.lines(rsyslog.tcpFile).length >= N && rsyslog.lines(rsyslog.tlsFile).length >= N) break;
    await new Promise((r) => setTimeout(r, 50));
  }
}, 180_000);

afterAll(async () => {
  await rsyslog?.stop();
  await hec?.stop();
  await otlp?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

const rotatedFiles = () =>
  readdirSync(dir)
    .filter((f) => f.startsWith('audit.ndjson'))
    .sort((a, b) => Number(b.split('.')[2] ?? 0) - Number(a.split('.')[2] ?? 0))
    .map((f) => join(dir, f));

const sinks: Array<{ name: string; lines: () => string[] }> = [
  { name: 'stdout', lines: () => readFileSync(stdoutFile, 'utf8').split('\n') },
  { name: 'file (rotated)', lines: () => rotatedFiles().flatMap((f) => readFileSync(f, 'utf8').split('\n')) },
  { name: 'otlp', lines: () => otlp.events },
  { name: 'syslog-tcp (rsyslog)', lines: () => rsyslog.lines(rsyslog.tcpFile) },
  { name: 'syslog-tls (rsyslog)', lines: () => rsyslog.lines(rsyslog.tlsFile) },
  { name: 'http (HEC)', lines: () => hec.events },
];

describe(`${N} calls into every sink`, () => {
  it.each(sinks)('$name holds exactly N events, contiguous, and the chain verifies', ({ lines }) => {
    const state = verifyText(lines().join('\n'));
    expect(state.failure).toBeUndefined();
    expect(state.events).toBe(N);
    expect(state.instances.get('itest-1')?.seq).toBe(N);
  });

  it('counted every event as delivered and none as dropped', async () => {
    const values = (await metrics.auditEvents.get()).values;
    for (const sink of ['stdout', 'file', 'otlp', 'syslog-tcp', 'syslog-tls', 'http']) {
      expect(values.find((v) => v.labels.sink === sink && v.labels.result === 'delivered')?.value, sink).toBe(
        N,
      );
      expect(values.find((v) => v.labels.sink === sink && v.labels.result === 'dropped')?.value, sink).toBe(
        0,
      );
    }
  });

  it('rotated the file and kept every rotated part', () => {
    expect(rotatedFiles().length).toBeGreaterThan(3);
  });

  it('redacted the bearer token in every copy', () => {
    const first = JSON.parse(hec.events[0] as string);
    expect(first.payload.arguments).toEqual({ query: 'q0', token: '[REDACTED]' });
    expect(rsyslog.lines(rsyslog.tlsFile).some((l) => l.includes('abcdefghijklmnop'))).toBe(false);
  });

  it('sent OTLP log records with severity, routing attributes and the trace context', () => {
    const r = otlpRecords[1];
    expect(r?.severityText).toBe('INFO');
    expect(r?.eventName).toBe('portcullis.audit');
    expect(r?.traceId?.toLowerCase()).toBe('0af7651916cd43dd8448eb211c80319c');
    const keys = r?.attributes?.map((a) => a.key);
    expect(keys).toEqual(
      expect.arrayContaining(['portcullis.audit.seq', 'mcp.method.name', 'gen_ai.tool.name']),
    );
  });
});

describe('npm run audit:verify', () => {
  const cli = (args: string[], input?: string) =>
    spawnSync(process.execPath, ['sidecar/src/audit/verify-cli.ts', ...args], { encoding: 'utf8', input });

  it('passes the file rsyslog wrote, from a file and from stdin', () => {
    const ok = cli([rsyslog.tcpFile]);
    expect(ok.status, ok.stderr).toBe(0);
    expect(ok.stdout).toContain(`OK ${N} events`);
    const fromStdin = cli([], readFileSync(rsyslog.tlsFile, 'utf8'));
    expect(fromStdin.status).toBe(0);
  });

  it.each([
    {
      name: 'an edited line',
      change: (lines: string[]) => {
        lines[4999] = (lines[4999] as string).replace('"outcome":"allowed"', '"outcome":"denied"');
      },
      line: 5000,
      problem: 'hash mismatch',
    },
    {
      name: 'a deleted line',
      change: (lines: string[]) => void lines.splice(6999, 1),
      line: 7000,
      problem: 'gap: seq 7000..7000',
    },
  ])('fails at $name and names it', ({ change, line, problem }) => {
    const lines = rsyslog.lines(rsyslog.tcpFile);
    change(lines);
    const tampered = join(dir, 'tampered.log');
    writeFileSync(tampered, `${lines.join('\n')}\n`);
    const out = cli([tampered]);
    expect(out.status).toBe(1);
    expect(out.stdout).toContain(`${tampered}:${line} `);
    expect(out.stdout).toContain(problem);
  });

  it('reads rotated files in order as one stream', () => {
    expect(
      execFileSync(process.execPath, ['sidecar/src/audit/verify-cli.ts', ...rotatedFiles()], {
        encoding: 'utf8',
      }),
    ).toContain(`OK ${N} events`);
  });
});
