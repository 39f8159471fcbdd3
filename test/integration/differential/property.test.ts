import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generatedArb, toWire } from './arbitraries.ts';
import { BATCH_PROTOCOL } from './corpus.ts';
import { type AuditEvent, unvouched } from './invariant.ts';
import {
  type CorpusSidecar,
  closeSession,
  openSession,
  type Session,
  send,
  startCorpusSidecar,
} from './run-corpus.ts';
import { type DemoUpstream, startDemoUpstream, UPSTREAM_KINDS } from './upstreams.ts';

// The corpus's invariant as a property: for generated requests (key case and Unicode folds,
// duplicate and shadow keys, escapes, UTF-7 strings, charsets, odd whitespace, URI aliases,
// batches), the upstream never executes a call that the audit log does not show as allowed under
// that same name, URI and arguments. A failure is shrunk to a smallest request and printed with its
// seed; FC_SEED and FC_RUNS replay or widen a run.

const RUNS = Number(process.env.FC_RUNS ?? 200);
const SEED = Number(process.env.FC_SEED ?? 20261204);

describe.each(UPSTREAM_KINDS)('generated requests through the sidecar to the %s upstream', (kind) => {
  let upstream: DemoUpstream;
  let sidecar: CorpusSidecar;
  let pings = 0;

  beforeAll(async () => {
    upstream = await startDemoUpstream(kind);
    sidecar = await startCorpusSidecar(upstream);
  }, 300_000);

  afterAll(async () => {
    await sidecar?.finish();
    await upstream?.close();
  });

  /** The session's audit events, once the file holds the event of a ping sent after the request. */
  async function eventsOf(session: Session): Promise<AuditEvent[]> {
    const id = `sentinel-${++pings}`;
    await send(sidecar.url, session, { body: JSON.stringify({ jsonrpc: '2.0', id, method: 'ping' }) });
    for (;;) {
      const events = await sidecar.events();
      if (events.some((e) => e.jsonrpcId === id)) return events.filter((e) => e.session === session.id);
      await new Promise((r) => setTimeout(r, 10));
    }
  }

  it('executes nothing the audit does not show as allowed', async () => {
    await fc.assert(
      fc.asyncProperty(generatedArb, async (generated) => {
        const wire = toWire(generated);
        const before = (await upstream.executed()).length;
        const session = await openSession(sidecar.url, generated.batchWith ? BATCH_PROTOCOL : undefined);
        await send(sidecar.url, session, { body: wire.body, headers: wire.headers });
        const events = await eventsOf(session);
        await closeSession(sidecar.url, session);
        const executed = (await upstream.executed()).slice(before);
        const request = `${JSON.stringify(wire.headers)} ${JSON.stringify(Buffer.from(wire.body).toString('latin1'))}`;
        expect(unvouched(executed, events), `executed by ${kind} for ${request}`).toEqual([]);
      }),
      { numRuns: RUNS, seed: SEED },
    );
  }, 300_000);
});
