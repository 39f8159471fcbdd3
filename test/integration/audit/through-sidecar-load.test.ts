import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AuditEvent } from '../../../sidecar/src/audit/event.ts';
import { verifyText } from '../../../sidecar/src/audit/verify.ts';
import { ERROR_SPECS } from '../../../sidecar/src/errors.ts';
import { type Receiver, startHecReceiver, startOtlpLogsReceiver } from '../../support/audit-receivers.ts';
import { createLoadClient, until } from '../../support/audit-through-sidecar-client.ts';
import { type AuditedSidecar, startAuditedSidecar } from '../../support/audit-through-sidecar-process.ts';
import { type EchoUpstream, startEchoUpstream } from '../../support/echo-upstream.ts';
import { everySink } from '../../support/every-sink.ts';
import { allow, KEYS } from '../../support/harness.ts';
import { type Rsyslog, startRsyslog } from '../../support/rsyslog.ts';

// Issue #5, "done when", through the real sidecar: 10,000 mixed tools/call (alice's allowed, bob's
// denied by policy), 32 in flight over 4 sessions, through ONE sidecar process whose config has every
// sink at once. Afterwards each sink holds exactly the events of those calls (plus the sessions'
// initialize and notifications), contiguous from seq 1, and the chain verifies; editing or deleting
// one line of the file sink's copy makes `npm run audit:verify` fail naming that line.

const N = 10_000;
const IN_FLIGHT = 32;
const TOKEN = 'hec-through-sidecar';
const SINKS = ['stdout', 'file', 'otlp', 'syslog-tcp', 'syslog-tls', 'http'] as const;
const DENIED = ERROR_SPECS.POLICY_DENIED.jsonRpcCode;

let dir: string;
let rsyslog: Rsyslog | undefined;
let hec: Receiver | undefined;
let otlp: Receiver | undefined;
let upstream: EchoUpstream | undefined;
let sidecar: AuditedSidecar | undefined;
let auditFile: string;
let stdoutText = '';
/** What the clients saw. */
const seen = { sent: 0, allowed: [] as number[], denied: 0, other: [] as string[] };
const counted = new Map<string, { delivered: number; dropped: number }>();

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'portcullis-through-sidecar-'));
  rsyslog = await startRsyslog(dir);
  hec = await startHecReceiver(TOKEN);
  otlp = await startOtlpLogsReceiver();
  upstream = await startEchoUpstream();
  auditFile = join(dir, 'audit.ndjson');
  sidecar = await startAuditedSidecar({
    dir,
    upstreamUrl: upstream.url,
    rules: [allow('engineers-any-tool', { subjects: [{ group: 'engineering' }], tools: ['*'] })],
    env: { TEST_HEC_TOKEN: TOKEN },
    audit: {
      payloads: { capture: 'redacted' },
      // Room for the whole run in every queue: nothing may be dropped for a slow sink.
      queue: { maxEvents: 4 * N },
      sinks: everySink({ auditFile, otlpUrl: otlp.url, hecUrl: hec.url, rsyslog }),
    },
  });

  const client = createLoadClient(sidecar.url, IN_FLIGHT);
  try {
    // alice (engineering) may call any tool; bob matches no rule and is denied by default.
    const sessions = [
      await client.openSession(KEYS.alice),
      await client.openSession(KEYS.bob),
      await client.openSession(KEYS.alice),
      await client.openSession(KEYS.bob),
    ];
    let next = 0;
    await Promise.all(
      Array.from({ length: IN_FLIGHT }, async () => {
        for (let i = next++; i < N; i = next++) {
          const reply = await client.call(
            sessions[i % 4] as Record<string, string>,
            100 + i,
            i % 8 < 4 ? 'alpha' : 'beta',
            i,
          );
          if (reply.status === 200 && reply.outcome === 'result' && i % 2 === 0) seen.allowed.push(i);
          else if (reply.status === 200 && reply.outcome === DENIED && i % 2 === 1) seen.denied += 1;
          else seen.other.push(`call ${i}: HTTP ${reply.status} ${String(reply.outcome)}`);
        }
      }),
    );
    seen.sent = client.sent;
  } finally {
    await client.close();
  }

  // Every queue drained: each sink has taken every event the sidecar recorded.
  const s = sidecar;
  await until(
    async () => {
      for (const sink of SINKS) {
        // Dropped counts too, so a loss fails the assertions below rather than this wait.
        const of = (result: string) => s.metric('portcullis_sidecar_audit_events_total', { sink, result });
        if ((await of('delivered')) + (await of('dropped')) < seen.sent) return false;
      }
      return true;
    },
    'every sink to deliver (or drop) every event',
    60_000,
    200,
  );
  for (const sink of SINKS) {
    const of = (result: string) => s.metric('portcullis_sidecar_audit_events_total', { sink, result });
    counted.set(sink, { delivered: await of('delivered'), dropped: await of('dropped') });
  }
  // SIGTERM: the stdout and file sinks flush what they wrote.
  await sidecar.close();
  stdoutText = sidecar.stdout();
  const r = rsyslog;
  await until(
    () => r.lines(r.tcpFile).length >= seen.sent && r.lines(r.tlsFile).length >= seen.sent,
    'rsyslog to write every message',
    30_000,
  );
}, 240_000);

afterAll(async () => {
  await sidecar?.close();
  await upstream?.close();
  await rsyslog?.stop();
  await hec?.stop();
  await otlp?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

const fileLines = () => readFileSync(auditFile, 'utf8').split('\n');

const sinks: Array<{ name: string; lines: () => string[] }> = [
  { name: 'stdout (captured from the process)', lines: () => stdoutText.split('\n') },
  { name: 'file', lines: fileLines },
  { name: 'otlp (receiver)', lines: () => otlp?.events ?? [] },
  { name: 'syslog tcp (rsyslog)', lines: () => rsyslog?.lines(rsyslog.tcpFile) ?? [] },
  { name: 'syslog tls (rsyslog)', lines: () => rsyslog?.lines(rsyslog.tlsFile) ?? [] },
  { name: 'http (HEC receiver)', lines: () => hec?.events ?? [] },
];

const auditEvents = (lines: string[]): AuditEvent[] =>
  lines.filter((l) => l.includes('"schema":"portcullis.dev/audit/')).map((l) => JSON.parse(l) as AuditEvent);

describe(`${N} mixed tools/call through one sidecar with every sink`, () => {
  it('answered every call as the policy says: half allowed, half denied', () => {
    expect(seen.other).toEqual([]);
    expect(seen.allowed).toHaveLength(N / 2);
    expect(seen.denied).toBe(N / 2);
  });

  it('forwarded exactly the allowed calls upstream', () => {
    expect([...(upstream?.calls ?? [])].sort((a, b) => a - b)).toEqual(
      [...seen.allowed].sort((a, b) => a - b),
    );
  });

  it.each(sinks)('$name: exactly the events of the calls, contiguous, chain verifies', ({ lines }) => {
    const all = lines();
    const state = verifyText(all.join('\n'));
    expect(state.failure).toBeUndefined();
    // One event per MCP message the clients sent, one instance, seq 1..sent without a hole.
    expect(state.events).toBe(seen.sent);
    expect([...state.instances.values()].map((v) => v.seq)).toEqual([seen.sent]);
    const events = auditEvents(all);
    const calls = events.filter((e) => e.method === 'tools/call');
    expect(calls).toHaveLength(N);
    expect(calls.filter((e) => e.outcome === 'allowed')).toHaveLength(seen.allowed.length);
    expect(calls.filter((e) => e.outcome === 'denied')).toHaveLength(seen.denied);
    expect(new Set(events.map((e) => e.method))).toEqual(
      new Set(['initialize', 'notifications/initialized', 'tools/call']),
    );
  });

  it.each(SINKS)('%s: /metrics counted every event delivered and none dropped', (sink) => {
    expect(counted.get(sink)).toEqual({ delivered: seen.sent, dropped: 0 });
  });
});

describe('npm run audit:verify on the file sink', () => {
  const cli = (file: string) =>
    spawnSync(process.execPath, ['sidecar/src/audit/verify-cli.ts', file], { encoding: 'utf8' });
  const lines = () => fileLines().filter((l) => l !== '');

  it('passes the file as written', () => {
    const out = cli(auditFile);
    expect(out.status, out.stderr).toBe(0);
    expect(out.stdout).toContain(`OK ${seen.sent} events`);
  });

  it.each([
    {
      name: 'one edited line',
      change: (l: string[]) => {
        const event = JSON.parse(l[4999] as string) as AuditEvent;
        l[4999] = JSON.stringify({ ...event, outcome: event.outcome === 'allowed' ? 'denied' : 'allowed' });
      },
      line: 5000,
      problem: 'hash mismatch',
    },
    {
      name: 'one deleted line',
      change: (l: string[]) => void l.splice(6999, 1),
      line: 7000,
      problem: 'gap: seq 7000..7000 missing',
    },
  ])('fails at $name and names that line', ({ change, line, problem }) => {
    const tampered = lines();
    change(tampered);
    const file = join(dir, 'tampered.ndjson');
    writeFileSync(file, `${tampered.join('\n')}\n`);
    const out = cli(file);
    expect(out.status).toBe(1);
    expect(out.stdout).toContain(`FAIL ${file}:${line} `);
    expect(out.stdout).toContain(problem);
  });
});
