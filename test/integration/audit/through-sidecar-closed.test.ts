import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { verifyText } from '../../../sidecar/src/audit/verify.ts';
import { ERROR_SPECS } from '../../../sidecar/src/errors.ts';
import { createLoadClient, sleep, until } from '../../support/audit-through-sidecar-client.ts';
import { fastRetry, type HecSidecar, startHecSidecar } from '../../support/audit-through-sidecar-hec.ts';
import { KEYS } from '../../support/harness.ts';

// Issue #5, "done when", through the real sidecar, failureMode closed: while the only sink is down,
// tools/call is refused with the AUDIT_UNAVAILABLE JSON-RPC error and never reaches the upstream; the
// refusals show in /metrics and in the sidecar's log; after the sink recovers calls succeed again and
// the chain has no hole.

const AUDIT_UNAVAILABLE = ERROR_SPECS.AUDIT_UNAVAILABLE;

describe('failureMode closed: the only sink down, then back', () => {
  let r: HecSidecar;
  const admitted: number[] = [];
  const refused: Array<{ n: number; status: number; code: unknown; id: unknown }> = [];
  const succeeded: number[] = [];
  let sent = 0;
  let refusalsInTrail = 0;

  // r is unset only when its start failed, which already cleaned up after itself.
  afterAll(() => r?.close());

  beforeAll(async () => {
    r = await startHecSidecar('closed', {
      failureMode: 'closed',
      queue: { ...fastRetry, ackTimeoutMs: 500 },
    });
    const client = createLoadClient(r.sidecar.url, 2);
    try {
      const session = await client.openSession(KEYS.alice);
      let n = 0;
      const call = async () => {
        const i = n++;
        const reply = await client.call(session, 100 + i, 'alpha', i);
        return { i, reply };
      };
      for (let k = 0; k < 10; k++) {
        const { i, reply } = await call();
        if (reply.outcome === 'result') succeeded.push(i);
      }
      await until(() => r.hec.events.length === 12, 'the first events');

      r.hec.failWith = 503;
      // Calls admitted before the sidecar has seen a write fail go through; their events wait in the
      // queue. From the first failed write on, calls are refused before they are forwarded.
      for (;;) {
        if (admitted.length > 100) throw new Error('calls still admitted while the sink is down');
        const { i, reply } = await call();
        if (reply.outcome === 'result') {
          admitted.push(i);
          await sleep(20);
          continue;
        }
        refused.push({ n: i, status: reply.status, code: reply.outcome, id: reply.id });
        break;
      }
      for (let k = 0; k < 20; k++) {
        const { i, reply } = await call();
        refused.push({ n: i, status: reply.status, code: reply.outcome, id: reply.id });
        await sleep(50);
      }

      r.hec.failWith = undefined;
      // The queue retries with backoff; calls are refused until its next write succeeds.
      for (;;) {
        if (refused.length > 200) throw new Error('calls still refused after the sink recovered');
        const { i, reply } = await call();
        if (reply.outcome === 'result') {
          succeeded.push(i);
          break;
        }
        refused.push({ n: i, status: reply.status, code: reply.outcome, id: reply.id });
        await sleep(50);
      }
      for (let k = 0; k < 10; k++) {
        const { i, reply } = await call();
        if (reply.outcome === 'result') succeeded.push(i);
      }
    } finally {
      await client.close();
    }
    sent = client.sent;
    await until(
      async () =>
        (await r.sidecar.metric('portcullis_sidecar_audit_queue_depth', { sink: 'http' })) === 0 &&
        (await r.auditCount('delivered')) >= sent - refused.length,
      'the events of every admitted message',
      10_000,
    );
    // A refusal decided just as the sink recovered may itself be recorded (the refusal's event is
    // accepted): every refusal is either in the trail or counted as refused, never both or neither.
    refusalsInTrail = r.events().filter((e) => e.method === 'tools/call' && e.outcome === 'failed').length;
  }, 60_000);

  it('refused calls with the AUDIT_UNAVAILABLE JSON-RPC error while the sink was down', () => {
    expect(admitted.length + refused.length + succeeded.length).toBe(sent - 2);
    expect(succeeded).toHaveLength(21);
    expect(refused.length).toBeGreaterThanOrEqual(21);
    for (const x of refused) {
      expect(x).toEqual({
        n: x.n,
        status: AUDIT_UNAVAILABLE.httpStatus,
        code: AUDIT_UNAVAILABLE.jsonRpcCode,
        id: 100 + x.n,
      });
    }
  });

  it('never forwarded a refused call upstream', () => {
    const reached = new Set(r.upstream.calls);
    expect(refused.filter((x) => reached.has(x.n))).toEqual([]);
    for (const n of [...admitted, ...succeeded]) expect(reached.has(n), `call ${n}`).toBe(true);
  });

  it('shows the refusals in /metrics', async () => {
    expect(await r.auditCount('refused')).toBe(refused.length - refusalsInTrail);
    expect(
      await r.sidecar.metric('portcullis_sidecar_requests_total', {
        method: 'tools/call',
        outcome: 'failed',
      }),
    ).toBe(refused.length);
    expect(await r.auditCount('dropped')).toBe(0);
  });

  it("shows the outage and the refusals in the sidecar's log", () => {
    const log = r.sidecar.logLines();
    expect(log.filter((l) => l.msg === 'audit sink failed; retrying')).not.toHaveLength(0);
    const notRecorded = log.filter((l) => l.msg === 'audit event not recorded');
    // Calls admitted just before the first failed write: their events waited past ackTimeoutMs.
    expect(notRecorded.filter((l) => l.err?.message?.includes('not delivered within 500 ms'))).toHaveLength(
      admitted.length,
    );
    expect(notRecorded.filter((l) => l.err?.message?.includes('sink failing'))).toHaveLength(
      refused.length - refusalsInTrail,
    );
  });

  it('after recovery, the chain has no hole and holds exactly the admitted messages', () => {
    const state = verifyText(r.hec.events.join('\n'));
    expect(state.failure).toBeUndefined();
    expect(state.events).toBe(sent - refused.length + refusalsInTrail);
    const callIds = r
      .events()
      .filter((e) => e.method === 'tools/call' && e.outcome === 'allowed')
      .map((e) => e.jsonrpcId);
    expect(callIds).toEqual(
      [...succeeded.slice(0, 10), ...admitted, ...succeeded.slice(10)].map((n) => 100 + n),
    );
  });
});
