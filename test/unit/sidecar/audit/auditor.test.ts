import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { createAuditor } from '../../../../sidecar/src/audit/auditor.ts';
import { AuditUnavailableError } from '../../../../sidecar/src/audit/errors.ts';
import { verifyText } from '../../../../sidecar/src/audit/verify.ts';
import type { AuditConfig } from '../../../../sidecar/src/contract/audit.ts';
import { createSidecarMetrics } from '../../../../sidecar/src/telemetry/metrics.ts';
import { callInput } from './builders.ts';
import { type MemorySink, memorySink } from './memory-sink.ts';

const silent = { info() {}, warn() {}, error() {} };
const fastRetry = { retryInitialMs: 2, retryMaxMs: 10 };

function setup(cfg: AuditConfig, sinks: MemorySink[]) {
  const metrics = createSidecarMetrics(new Registry());
  const auditor = createAuditor(cfg, {
    logger: silent,
    metrics,
    instanceId: 'unit-1',
    sinks,
    now: () => new Date('2026-01-01T00:00:00Z'),
  });
  const count = async (sink: string, result: string) =>
    (await metrics.auditEvents.get()).values.find((v) => v.labels.sink === sink && v.labels.result === result)
      ?.value ?? 0;
  return { auditor, metrics, count };
}

const until = async (cond: () => boolean) => {
  for (let i = 0; i < 500 && !cond(); i++) await new Promise((r) => setTimeout(r, 2));
  expect(cond()).toBe(true);
};

describe('auditor, failureMode open', () => {
  it('keeps no delivered event reachable', async () => {
    // The queue once advanced a head index and compacted only past 1,024 entries, keeping that many
    // delivered events (and their records) alive.
    setFlagsFromString('--expose-gc');
    const gc = runInNewContext('gc') as () => void;
    const delivered: Array<WeakRef<object>> = [];
    const sink = memorySink();
    const write = sink.write;
    sink.write = (batch) => {
      for (const r of batch) delivered.push(new WeakRef(r.event));
      return write(batch);
    };
    const { auditor, metrics } = setup({}, [sink]);
    for (let i = 0; i < 100; i++) await auditor.record(callInput());
    await until(() => delivered.length === 100);
    expect((await metrics.auditQueueDepth.get()).values).toEqual([
      expect.objectContaining({ labels: { sink: 'memory' }, value: 0 }),
    ]);
    await new Promise((r) => setTimeout(r, 0)); // WeakRef targets are held until the job ends
    gc();
    expect(delivered.filter((w) => w.deref() !== undefined)).toHaveLength(0);
    await auditor.close();
  });

  it('delivers one chained event per record to every sink', async () => {
    const [a, b] = [memorySink('a'), memorySink('b')];
    const { auditor, count } = setup({}, [a, b]);
    for (let i = 0; i < 50; i++) await auditor.record(callInput({ jsonrpcId: i }));
    await auditor.close();
    expect(a.lines).toEqual(b.lines);
    expect(a.lines).toHaveLength(50);
    const state = verifyText(a.lines.join('\n'));
    expect(state.failure).toBeUndefined();
    expect(state.events).toBe(50);
    expect(await count('a', 'delivered')).toBe(50);
  });

  it('counts and logs an event that cannot be built, and goes on with the next', async () => {
    const sink = memorySink();
    const errors: string[] = [];
    const metrics = createSidecarMetrics(new Registry());
    const logger = { ...silent, error: (_obj: object, msg?: string) => void errors.push(msg ?? '') };
    const auditor = createAuditor({}, { logger, metrics, instanceId: 'unit-1', sinks: [sink] });
    await auditor.record(callInput({ arguments: { n: 1n } })); // BigInt: not serialisable
    await auditor.record(callInput());
    await auditor.close();
    const dropped = (await metrics.auditEvents.get()).values.find(
      (v) => v.labels.sink === 'memory' && v.labels.result === 'dropped',
    );
    expect(dropped?.value).toBe(1);
    expect(errors).toEqual(['audit event could not be built; dropped']);
    expect(verifyText(sink.lines.join('\n'))).toMatchObject({ events: 1, failure: undefined });
  });

  it('writes the OCSF shape to a sink that asks for it, from the same chained event', async () => {
    const [native, ocsf] = [memorySink('native'), memorySink('ocsf', 'ocsf')];
    const { auditor } = setup({}, [native, ocsf]);
    await auditor.record(callInput());
    await auditor.close();
    const event = JSON.parse(native.lines[0] as string);
    expect(JSON.parse(ocsf.lines[0] as string)).toMatchObject({
      class_uid: 6003,
      metadata: { uid: event.id, sequence: 1 },
      unmapped: { portcullis: { hash: event.hash } },
    });
  });

  it('holds events while a sink is down and delivers them in order when it is back', async () => {
    const sink = memorySink();
    const { auditor, count } = setup({ queue: fastRetry }, [sink]);
    sink.down = true;
    for (let i = 0; i < 20; i++) await auditor.record(callInput());
    await until(() => sink.writes >= 3);
    sink.down = false;
    await auditor.close();
    expect(verifyText(sink.lines.join('\n')).events).toBe(20);
    expect(await count('memory', 'retried')).toBeGreaterThan(0);
    expect(await count('memory', 'dropped')).toBe(0);
  });

  it('drops and counts what a full queue cannot hold; the gap shows in the chain', async () => {
    const sink = memorySink();
    const { auditor, count } = setup({ queue: { ...fastRetry, maxEvents: 5 } }, [sink]);
    sink.down = true;
    // Five fit (one of them may already be in flight); the rest drop. Events are sealed a turn later.
    for (let i = 0; i < 10; i++) await auditor.record(callInput());
    await new Promise((r) => setImmediate(r));
    expect(await count('memory', 'dropped')).toBeGreaterThanOrEqual(4);
    sink.down = false;
    await until(() => sink.lines.length > 0);
    // The next event after the outage exposes the hole the drops left.
    await auditor.record(callInput());
    await auditor.close();
    const dropped = await count('memory', 'dropped');
    expect(sink.lines.length + dropped).toBe(11);
    expect(verifyText(sink.lines.join('\n')).failure?.problem).toMatch(/gap/);
  });

  it('bounds each queue in bytes too: drops and counts what does not fit, holds at most one event more', async () => {
    const sink = memorySink();
    const { auditor, count, metrics } = setup({ queue: { ...fastRetry, maxBytes: 65_536 } }, [sink]);
    sink.down = true;
    // About 1.6 KB each: some 40 fit in 64 KiB, far below maxEvents.
    for (let i = 0; i < 200; i++) await auditor.record(callInput({ reason: 'r'.repeat(1000) }));
    await new Promise((r) => setImmediate(r));
    const held = (await metrics.auditQueueBytes.get()).values[0]?.value ?? 0;
    expect(held).toBeGreaterThanOrEqual(65_536);
    expect(held).toBeLessThan(65_536 + 2000);
    const dropped = await count('memory', 'dropped');
    expect(dropped).toBeGreaterThan(100);
    sink.down = false;
    await auditor.close();
    expect(sink.lines.length + dropped).toBe(200);
    expect((await metrics.auditQueueBytes.get()).values[0]?.value).toBe(0);
  });

  it('writes U+2028 and U+2029 escaped, in both shapes, and the chain still verifies', async () => {
    const [native, ocsf] = [memorySink('native'), memorySink('ocsf', 'ocsf')];
    const { auditor } = setup({ payloads: { capture: 'full' } }, [native, ocsf]);
    await auditor.record(callInput({ jsonrpcId: 'a\u2028b', arguments: { text: 'c\u2029d' } }));
    await auditor.close();
    for (const line of [...native.lines, ...ocsf.lines]) expect(line).not.toMatch(/[\u2028\u2029]/);
    expect(native.lines[0]).toContain('"jsonrpcId":"a\\u2028b"');
    expect(JSON.parse(native.lines[0] as string)).toMatchObject({
      jsonrpcId: 'a\u2028b',
      payload: { arguments: { text: 'c\u2029d' } },
    });
    expect(verifyText(native.lines.join('\n'))).toMatchObject({ events: 1, failure: undefined });
  });

  it('counts events still queued at shutdown as dropped', async () => {
    const sink = memorySink();
    const { auditor, count } = setup({ queue: { ...fastRetry, closeTimeoutMs: 30 } }, [sink]);
    sink.down = true;
    for (let i = 0; i < 3; i++) await auditor.record(callInput());
    await auditor.close();
    expect(await count('memory', 'dropped')).toBe(3);
  });
});

describe('auditor, failureMode closed', () => {
  it('resolves once every sink has the event', async () => {
    const [a, b] = [memorySink('a'), memorySink('b')];
    const { auditor } = setup({ failureMode: 'closed' }, [a, b]);
    await auditor.record(callInput());
    expect(a.lines).toHaveLength(1);
    expect(b.lines).toHaveLength(1);
    await auditor.close();
  });

  it('rejects while a sink is down, spends no sequence number, and accepts again when it is back', async () => {
    const sink = memorySink();
    const { auditor, count } = setup({ failureMode: 'closed', queue: { ...fastRetry, ackTimeoutMs: 50 } }, [
      sink,
    ]);
    await auditor.record(callInput());
    sink.down = true;
    await expect(auditor.record(callInput())).rejects.toBeInstanceOf(AuditUnavailableError);
    expect(auditor.accepting()).toBe(false);
    await expect(auditor.record(callInput())).rejects.toMatchObject({
      code: 'AUDIT_UNAVAILABLE',
      sink: 'memory',
    });
    expect(await count('memory', 'refused')).toBe(1);
    sink.down = false;
    await until(() => auditor.accepting());
    await auditor.record(callInput());
    await auditor.close();
    // The event whose delivery timed out was still delivered later: the chain is whole.
    const state = verifyText(sink.lines.join('\n'));
    expect(state.failure).toBeUndefined();
    expect(state.events).toBe(3);
  });

  it('refuses calls while a queue holds maxBytes, spending no sequence number', async () => {
    const sink = memorySink();
    const { auditor, count } = setup(
      { failureMode: 'closed', queue: { ...fastRetry, maxBytes: 65_536, ackTimeoutMs: 600_000 } },
      [sink],
    );
    sink.hang = true;
    const admitted: Promise<void>[] = [];
    while (auditor.accepting() && admitted.length < 1000)
      admitted.push(auditor.record(callInput({ reason: 'r'.repeat(1000) })));
    expect(admitted.length).toBeLessThan(100); // the byte bound, not maxEvents, stopped admission
    await expect(auditor.record(callInput())).rejects.toMatchObject({
      code: 'AUDIT_UNAVAILABLE',
      message: expect.stringContaining('queue full'),
    });
    expect(await count('memory', 'refused')).toBe(1);
    sink.hang = false;
    sink.release();
    await Promise.all(admitted);
    await auditor.close();
    const state = verifyText(sink.lines.join('\n'));
    expect(state.failure).toBeUndefined();
    expect(state.events).toBe(admitted.length);
  });

  it('treats a write that hangs past ackTimeoutMs as a failing sink', async () => {
    const sink = memorySink();
    const { auditor } = setup({ failureMode: 'closed', queue: { ...fastRetry, ackTimeoutMs: 30 } }, [sink]);
    sink.hang = true;
    await expect(auditor.record(callInput())).rejects.toBeInstanceOf(AuditUnavailableError);
    expect(auditor.accepting()).toBe(false);
    await expect(auditor.record(callInput())).rejects.toMatchObject({ code: 'AUDIT_UNAVAILABLE' });
    sink.hang = false;
    sink.release();
    await until(() => auditor.accepting());
    await auditor.close();
    expect(verifyText(sink.lines.join('\n')).events).toBe(1);
  });
});
