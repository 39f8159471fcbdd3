import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { verifyText } from '../../../sidecar/src/audit/verify.ts';
import type { Receiver } from '../../support/audit-receivers.ts';
import { createLoadClient, sleep, until } from '../../support/audit-through-sidecar-client.ts';
import { fastRetry, type HecSidecar, startHecSidecar } from '../../support/audit-through-sidecar-hec.ts';
import { KEYS } from '../../support/harness.ts';

// Issue #5, "done when", through the real sidecar: the HTTP (HEC) receiver goes away for 10 s and
// comes back while calls keep flowing, failureMode open. Every call succeeds; afterwards the sidecar's
// /metrics account for every event (delivered + dropped == sent); with a queue big enough nothing is
// dropped, and beyond the queue only what arrived while it was full is missing, and counted.

const OUTAGE_MS = 10_000;
const WORKERS = 4;
/** Small enough that a 10 s outage overflows it. */
const SMALL_QUEUE = 300;

const running: HecSidecar[] = [];
afterAll(async () => {
  for (const r of running) await r.close();
});

interface OutageCase {
  name: string;
  maxEvents: number;
  down(hec: Receiver): Promise<void>;
  up(hec: Receiver): Promise<void>;
}

interface OutageRun {
  sent: number;
  failures: string[];
  callsWhileDown: number;
  delivered: number;
  dropped: number;
  retried: number;
  /** Events waiting in the sink's queue just before the receiver came back. */
  depthAtUp: number;
  r: HecSidecar;
}

/** Steady calls (4 workers, a short pause between calls) before, during and after a 10 s outage. */
async function outage(c: OutageCase): Promise<OutageRun> {
  const r = await startHecSidecar(c.name.replace(/\W+/g, '-'), {
    failureMode: 'open',
    queue: { ...fastRetry, maxEvents: c.maxEvents },
  });
  running.push(r);
  const client = createLoadClient(r.sidecar.url, WORKERS);
  const failures: string[] = [];
  let down = false;
  let callsWhileDown = 0;
  let stop = false;
  let n = 0;
  let depthAtUp = 0;
  try {
    const session = await client.openSession(KEYS.alice);
    const load = Promise.all(
      Array.from({ length: WORKERS }, async () => {
        while (!stop) {
          const i = n++;
          const reply = await client.call(session, 100 + i, 'alpha', i);
          if (reply.status !== 200 || reply.outcome !== 'result')
            failures.push(`call ${i}: HTTP ${reply.status} ${String(reply.outcome)}`);
          if (down) callsWhileDown += 1;
          await sleep(10);
        }
      }),
    );
    await sleep(1000);
    await c.down(r.hec);
    down = true;
    await sleep(OUTAGE_MS);
    down = false;
    depthAtUp = await r.sidecar.metric('portcullis_sidecar_audit_queue_depth', { sink: 'http' });
    await c.up(r.hec);
    await sleep(1000);
    stop = true;
    await load;
  } finally {
    stop = true;
    await client.close();
  }
  const sent = client.sent;
  await until(
    async () => (await r.auditCount('delivered')) + (await r.auditCount('dropped')) >= sent,
    `${c.name}: every event delivered or dropped`,
    30_000,
    100,
  );
  return {
    sent,
    failures,
    callsWhileDown,
    delivered: await r.auditCount('delivered'),
    dropped: await r.auditCount('dropped'),
    retried: await r.auditCount('retried'),
    depthAtUp,
    r,
  };
}

const outageCases: OutageCase[] = [
  {
    name: 'refusing connections, queue big enough',
    maxEvents: 10_000,
    down: (hec) => hec.stop(),
    up: (hec) => hec.start(),
  },
  {
    name: `answering 503, queue of ${SMALL_QUEUE}`,
    maxEvents: SMALL_QUEUE,
    down: async (hec) => {
      hec.failWith = 503;
    },
    up: async (hec) => {
      hec.failWith = undefined;
    },
  },
];

describe('failureMode open: the HEC receiver down for 10 s and back', () => {
  const runs = new Map<string, OutageRun>();
  // Both outages at once: two sidecars, two receivers, one 10 s window.
  beforeAll(async () => {
    const results = await Promise.all(outageCases.map(outage));
    for (const [i, c] of outageCases.entries()) runs.set(c.name, results[i] as OutageRun);
  }, 90_000);

  it.each(outageCases)('$name: every call succeeded throughout, and calls kept flowing', ({ name }) => {
    const run = runs.get(name) as OutageRun;
    expect(run.failures).toEqual([]);
    expect(run.callsWhileDown).toBeGreaterThan(300);
    expect(run.retried).toBeGreaterThan(0);
    expect(run.depthAtUp).toBeGreaterThan(0);
  });

  it.each(outageCases)(
    '$name: delivered + dropped == sent, and the receiver holds what was delivered',
    ({ name }) => {
      const run = runs.get(name) as OutageRun;
      expect(run.delivered + run.dropped).toBe(run.sent);
      const seqs = new Set(run.r.events().map((e) => e.seq));
      // Each delivered event arrived once and belongs to this run: the seqs not there are the dropped.
      expect(run.r.hec.events).toHaveLength(run.delivered);
      expect(seqs.size).toBe(run.delivered);
      expect([...seqs].every((seq) => seq >= 1 && seq <= run.sent)).toBe(true);
    },
  );

  it('with a queue big enough, nothing was dropped and the chain verifies', () => {
    const run = runs.get('refusing connections, queue big enough') as OutageRun;
    expect(run.dropped).toBe(0);
    const state = verifyText(run.r.hec.events.join('\n'));
    expect(state.failure).toBeUndefined();
    expect(state.events).toBe(run.sent);
  });

  it('beyond the queue, drops were counted and the chain shows where events are missing', () => {
    const run = runs.get(`answering 503, queue of ${SMALL_QUEUE}`) as OutageRun;
    expect(run.depthAtUp).toBe(SMALL_QUEUE);
    expect(run.dropped).toBeGreaterThan(0);
    // Only what arrived while the queue was full is missing: one stretch of seqs, as long as the
    // dropped count. Everything before it (including what the full queue held) arrived, in order and
    // verified, and everything after it too.
    const seqs = run.r
      .events()
      .map((e) => e.seq)
      .sort((a, b) => a - b);
    const gaps = seqs.flatMap((seq, i) =>
      i > 0 && seq !== (seqs[i - 1] as number) + 1 ? [[seqs[i - 1], seq]] : [],
    );
    expect(gaps).toHaveLength(1);
    const [before, after] = gaps[0] as [number, number];
    expect(after - before - 1).toBe(run.dropped);
    expect([seqs[0], seqs[seqs.length - 1]]).toEqual([1, run.sent]);
    const state = verifyText(run.r.hec.events.join('\n'));
    expect(state.failure?.problem).toBe(`gap: seq ${before + 1}..${after - 1} missing`);
    expect(state.events).toBe(before);
  });
});
