import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAuditor } from '../../../sidecar/src/audit/auditor.ts';
import { AuditUnavailableError } from '../../../sidecar/src/audit/errors.ts';
import { verifyText } from '../../../sidecar/src/audit/verify.ts';
import type { AuditConfig } from '../../../sidecar/src/contract/audit.ts';
import { createSidecarMetrics } from '../../../sidecar/src/telemetry/metrics.ts';
import { type Receiver, startHecReceiver } from '../../support/audit-receivers.ts';
import { type Rsyslog, startRsyslog } from '../../support/rsyslog.ts';
import { callInput } from '../../unit/sidecar/audit/builders.ts';

// A sink that goes away for a while and comes back: with room in the queue nothing is lost; beyond the
// queue, what could not be held is counted; with failureMode closed, calls are refused meanwhile.

const TOKEN = 't0ken';
const silent = { info() {}, warn() {}, error() {} };
const fastRetry = { retryInitialMs: 20, retryMaxMs: 200 };

function auditorFor(cfg: AuditConfig, instanceId: string) {
  const metrics = createSidecarMetrics(new Registry());
  const auditor = createAuditor(cfg, { logger: silent, metrics, instanceId, sinkDeps: { env: { TOKEN } } });
  const count = async (sink: string, result: string) =>
    (await metrics.auditEvents.get()).values.find((v) => v.labels.sink === sink && v.labels.result === result)
      ?.value ?? 0;
  const depth = async (sink: string) =>
    (await metrics.auditQueueDepth.get()).values.find((v) => v.labels.sink === sink)?.value;
  return { auditor, count, depth };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
async function until(cond: () => boolean | Promise<boolean>, what: string): Promise<void> {
  for (let i = 0; i < 300; i++) {
    if (await cond()) return;
    await sleep(20);
  }
  throw new Error(`timed out waiting for ${what}`);
}

describe('HTTP (HEC) receiver down for a while', () => {
  let hec: Receiver;
  beforeAll(async () => {
    hec = await startHecReceiver(TOKEN);
  });
  afterAll(() => hec.stop());

  it.each([
    { name: 'refusing connections', down: () => hec.stop(), up: () => hec.start() },
    {
      name: 'answering 503',
      down: async () => {
        hec.failWith = 503;
      },
      up: async () => {
        hec.failWith = undefined;
      },
    },
  ])('open mode, $name: loses nothing the queue can hold', async ({ down, up }) => {
    hec.events.length = 0;
    const { auditor, count, depth } = auditorFor(
      {
        queue: { ...fastRetry, maxEvents: 1000 },
        sinks: [{ type: 'http', url: hec.url, token: { env: 'TOKEN' } }],
      },
      'outage-open',
    );
    for (let i = 0; i < 100; i++) await auditor.record(callInput());
    await until(() => hec.events.length === 100, 'first events');
    await down();
    for (let i = 0; i < 800; i++) await auditor.record(callInput());
    await until(async () => (await count('http', 'retried')) > 0, 'a retry');
    expect(await depth('http')).toBeGreaterThan(0);
    await sleep(300);
    await up();
    await until(() => hec.events.length === 900, 'all events after recovery');
    await auditor.close();
    const state = verifyText(hec.events.join('\n'));
    expect(state.failure).toBeUndefined();
    expect(state.events).toBe(900);
    expect(await count('http', 'dropped')).toBe(0);
    expect(await count('http', 'delivered')).toBe(900);
  });

  it('open mode: beyond the queue, drops are counted and every event is delivered or counted', async () => {
    hec.events.length = 0;
    const { auditor, count } = auditorFor(
      {
        queue: { ...fastRetry, maxEvents: 200, maxBatch: 50 },
        sinks: [{ type: 'http', url: hec.url, token: { env: 'TOKEN' } }],
      },
      'outage-overflow',
    );
    hec.failWith = 503;
    for (let i = 0; i < 500; i++) await auditor.record(callInput());
    await new Promise((r) => setImmediate(r)); // events are sealed and queued a turn later
    const dropped = await count('http', 'dropped');
    expect(dropped).toBeGreaterThanOrEqual(250);
    hec.failWith = undefined;
    await until(() => hec.events.length === 500 - dropped, 'queued events after recovery');
    await auditor.close();
    expect(hec.events.length + (await count('http', 'dropped'))).toBe(500);
  });

  it('closed mode: calls are refused while the sink is down, and accepted again after', async () => {
    hec.events.length = 0;
    const { auditor, count } = auditorFor(
      {
        failureMode: 'closed',
        queue: { ...fastRetry, ackTimeoutMs: 300 },
        sinks: [{ type: 'http', url: hec.url, token: { env: 'TOKEN' } }],
      },
      'outage-closed',
    );
    await auditor.record(callInput());
    expect(hec.events).toHaveLength(1);
    hec.failWith = 503;
    // The first call after the outage began waits for delivery and times out; later ones fail fast.
    await expect(auditor.record(callInput())).rejects.toBeInstanceOf(AuditUnavailableError);
    expect(auditor.accepting()).toBe(false);
    for (let i = 0; i < 5; i++)
      await expect(auditor.record(callInput())).rejects.toMatchObject({ code: 'AUDIT_UNAVAILABLE' });
    expect(await count('http', 'refused')).toBe(5);
    hec.failWith = undefined;
    await until(() => auditor.accepting(), 'the sink to recover');
    await auditor.record(callInput());
    await auditor.close();
    // Refused calls spent no sequence number: the chain has no hole.
    const state = verifyText(hec.events.join('\n'));
    expect(state.failure).toBeUndefined();
    expect(state.events).toBe(3);
  });
});

describe('rsyslog stopped for a while and started again', () => {
  let dir: string;
  let rsyslog: Rsyslog;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'portcullis-outage-'));
    rsyslog = await startRsyslog(dir);
  });
  afterAll(async () => {
    await rsyslog?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('open mode over TLS: the queued events arrive after the restart', async () => {
    const { auditor, count } = auditorFor(
      {
        queue: fastRetry,
        sinks: [
          {
            type: 'syslog',
            host: '127.0.0.1',
            port: rsyslog.tlsPort,
            transport: 'tls',
            caFile: rsyslog.caFile,
            serverName: 'localhost',
          },
        ],
      },
      'outage-syslog',
    );
    for (let i = 0; i < 50; i++) await auditor.record(callInput());
    await until(() => rsyslog.lines(rsyslog.tlsFile).length === 50, 'events before the stop');
    await rsyslog.stop();
    for (let i = 0; i < 200; i++) await auditor.record(callInput());
    await until(async () => (await count('syslog', 'retried')) > 0, 'a retry');
    await rsyslog.start();
    await until(() => rsyslog.lines(rsyslog.tlsFile).length === 250, 'events after the restart');
    await auditor.close();
    const state = verifyText(rsyslog.lines(rsyslog.tlsFile).join('\n'));
    expect(state.failure).toBeUndefined();
    expect(state.events).toBe(250);
    expect(await count('syslog', 'dropped')).toBe(0);
  });
});
