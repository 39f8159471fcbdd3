import { spawnSync } from 'node:child_process';
import { hash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Compile } from 'typebox/schema';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AuditEvent } from '../../../sidecar/src/audit/event.ts';
import { AUDIT_SCHEMA_FILE } from '../../../sidecar/src/audit/json-schema.ts';
import { type Receiver, startHecReceiver, startOtlpLogsReceiver } from '../../support/audit-receivers.ts';
import { type AuditedSidecar, startAuditedSidecar } from '../../support/audit-through-sidecar-process.ts';
import { type EchoUpstream, startEchoUpstream } from '../../support/echo-upstream.ts';
import { everySink } from '../../support/every-sink.ts';
import { allow, initializeBody, KEYS, post } from '../../support/harness.ts';
import { type Rsyslog, startRsyslog } from '../../support/rsyslog.ts';

// Real events from the sidecar as deployed (a child process with server.namespace set, as the operator
// renders it) into every kind of sink: each event must validate against the published JSON Schema
// file, and each sink's copy must pass `npm run audit:verify`, including events whose ids and
// arguments hold U+2028/U+2029 and an unauthenticated call with a 4 MB tool name.

const TOKEN = 'hec-real-events';
const HUGE_TOOL = 't'.repeat(4_000_000);

let dir: string;
let rsyslog: Rsyslog;
let hec: Receiver;
let otlp: Receiver;
let upstream: EchoUpstream;
let sidecar: AuditedSidecar;
const expected = 7;

const call = (id: string | number, name: string, args: object = {}) =>
  JSON.stringify({ jsonrpc: '2.0', id, method: 'tools/call', params: { name, arguments: args } });

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'portcullis-real-events-'));
  rsyslog = await startRsyslog(dir);
  hec = await startHecReceiver(TOKEN);
  otlp = await startOtlpLogsReceiver();
  upstream = await startEchoUpstream();
  sidecar = await startAuditedSidecar({
    dir,
    upstreamUrl: upstream.url,
    rules: [allow('alice-alpha', { subjects: [{ user: 'alice' }], tools: ['alpha'] })],
    namespace: 'tools',
    env: { TEST_HEC_TOKEN: TOKEN },
    audit: {
      payloads: { capture: 'full' },
      sinks: everySink({ auditFile: join(dir, 'audit.ndjson'), otlpUrl: otlp.url, hecUrl: hec.url, rsyslog }),
    },
  });
  const init = await post(sidecar.url, initializeBody(1, '2025-03-26'), { 'x-api-key': KEYS.alice });
  const h = { 'x-api-key': KEYS.alice, 'mcp-session-id': init.headers.get('mcp-session-id') as string };
  await post(sidecar.url, JSON.stringify({ jsonrpc: '2.0', method: 'notifications/initialized' }), h);
  await post(sidecar.url, call('call\u2028one', 'alpha', { text: 'line\u2029separator' }), h); // allowed
  await post(sidecar.url, call(3, 'beta'), h); // denied
  await post(sidecar.url, call('x\u2028y', 'alpha'), {}); // unauthenticated
  await post(sidecar.url, call(5, HUGE_TOOL, { big: 'a'.repeat(1000) }), {}); // unauthenticated, 4 MB
  await post(sidecar.url, '{not json', h); // malformed
  await sidecar.close(); // flushes every sink
  for (let i = 0; i < 400; i++) {
    if (
      rsyslog.lines(rsyslog.tcpFile).length >= expected &&
      rsyslog.lines(rsyslog.tlsFile).length >= expected
    )
      break;
    await new Promise((r) => setTimeout(r, 50));
  }
}, 120_000);

afterAll(async () => {
  await rsyslog?.stop();
  await hec?.stop();
  await otlp?.stop();
  await upstream?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

// Each sink's copy as a file, as a SIEM export would hand it over. The HEC and OTLP receivers
// re-serialise the events (JSON.stringify writes U+2028 raw): audit:verify must read those too.
const copies: Array<{ name: string; file: () => string }> = [
  { name: 'stdout', file: () => join(dir, 'sidecar.stdout') },
  { name: 'file', file: () => join(dir, 'audit.ndjson') },
  { name: 'syslog-tcp (rsyslog)', file: () => rsyslog.tcpFile },
  { name: 'syslog-tls (rsyslog)', file: () => rsyslog.tlsFile },
  { name: 'http (HEC)', file: () => written('hec.ndjson', hec.events) },
  { name: 'otlp', file: () => written('otlp.ndjson', otlp.events) },
];

function written(name: string, lines: string[]): string {
  const file = join(dir, name);
  writeFileSync(file, `${lines.join('\n')}\n`);
  return file;
}

const eventsIn = (file: string): AuditEvent[] =>
  readFileSync(file, 'utf8')
    .split('\n')
    .filter((l) => l.includes('"schema":"portcullis.dev/audit/v1"'))
    .map((l) => JSON.parse(l) as AuditEvent);

describe('real events with server.namespace set, in every sink', () => {
  it.each(copies)('$name: npm run audit:verify passes', ({ file }) => {
    const run = spawnSync(process.execPath, ['sidecar/src/audit/verify-cli.ts', file()], {
      encoding: 'utf8',
    });
    expect(run.stdout + run.stderr).toContain(`OK ${expected} events verified`);
    expect(run.status).toBe(0);
  });

  it.each(copies)('$name: every event validates against the published schema file', ({ file }) => {
    const schema = Compile(JSON.parse(readFileSync(AUDIT_SCHEMA_FILE, 'utf8')));
    const events = eventsIn(file());
    expect(events).toHaveLength(expected);
    for (const event of events)
      expect(schema.Errors(event)[1], JSON.stringify(event).slice(0, 300)).toEqual([]);
  });

  it('names the server with its namespace and nothing else of the configuration', () => {
    for (const event of eventsIn(join(dir, 'audit.ndjson')))
      expect(event.server).toEqual({ name: 'test-server', namespace: 'tools' });
  });

  it('keeps U+2028 and U+2029 in the values and out of the written lines', () => {
    const text = readFileSync(join(dir, 'audit.ndjson'), 'utf8');
    expect(text).not.toMatch(/[\u2028\u2029]/);
    const events = eventsIn(join(dir, 'audit.ndjson'));
    expect(events.map((e) => e.jsonrpcId)).toEqual(expect.arrayContaining(['call\u2028one', 'x\u2028y']));
    expect(events.find((e) => e.jsonrpcId === 'call\u2028one')?.payload?.arguments).toEqual({
      text: 'line\u2029separator',
    });
  });

  it('writes the 4 MB tool name sent without credentials as 1 KiB, its length and hash, and no payload', () => {
    const event = eventsIn(join(dir, 'audit.ndjson')).find((e) => e.jsonrpcId === 5);
    expect(event).toMatchObject({ outcome: 'unauthenticated', httpStatus: 401 });
    expect(event?.target?.tool).toBe(HUGE_TOOL.slice(0, 1024));
    expect(event?.truncatedFields).toEqual([
      { bytes: 4_000_000, field: '/target/tool', sha256: hash('sha256', HUGE_TOOL) },
    ]);
    expect(event?.payload).toBeUndefined();
  });
});
