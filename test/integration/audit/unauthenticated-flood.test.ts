import { readFileSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { verifyText } from '../../../sidecar/src/audit/verify.ts';
import { fastRetry, type HecSidecar, startHecSidecar } from '../../support/audit-through-sidecar-hec.ts';

// The attack of issue #12: requests without credentials whose fields are 4 MB each, while the only
// audit sink (HTTP) is down. The sidecar (a child process, default limits) must stay under a memory
// bound, answer every request 401, and account for every one: delivered once the sink is back, or
// counted as dropped. The bound is documented in docs/security.md ("Audit under attack").

const REQUESTS = 1000;
const CONCURRENCY = 8;
// Measured peak (VmHWM): 369 MiB, from about 160 MiB at start; what grows with the flood is the
// bodies in flight (CONCURRENCY × 4 MB, read, decoded and parsed), not the number of requests.
const RSS_BOUND_MIB = 512;

const FOUR_MB = 4_000_000;
const big = (c: string) => c.repeat(FOUR_MB);
// One 4 MB caller-supplied field per request, in turn: tool name, id, method, an argument.
const bodies = [
  { jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: big('t'), arguments: {} } },
  { jsonrpc: '2.0', id: big('i'), method: 'tools/call', params: { name: 'echo', arguments: {} } },
  { jsonrpc: '2.0', id: 3, method: big('m'), params: {} },
  { jsonrpc: '2.0', id: 4, method: 'tools/call', params: { name: 'echo', arguments: { text: big('a') } } },
].map((b) => Buffer.from(JSON.stringify(b)));

let s: HecSidecar;

function vmHwmMiB(pid: number): number {
  const line = readFileSync(`/proc/${pid}/status`, 'utf8')
    .split('\n')
    .find((l) => l.startsWith('VmHWM:'));
  return Number(line?.split(/\s+/)[1]) / 1024; // kB
}

function send(url: URL, body: Buffer, agent: Agent): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      {
        method: 'POST',
        agent,
        headers: {
          'content-type': 'application/json',
          accept: 'application/json, text/event-stream',
          'content-length': body.length,
        },
      },
      (res) => {
        res.resume();
        res.once('end', () => resolve(res.statusCode ?? 0));
      },
    );
    req.once('error', reject);
    req.end(body);
  });
}

beforeAll(async () => {
  s = await startHecSidecar('flood', { queue: fastRetry });
});

afterAll(() => s?.close());

describe(`${REQUESTS} unauthenticated requests with 4 MB fields, HTTP audit sink down`, () => {
  it('keep the sidecar under its memory bound and every request audited or counted as dropped', async () => {
    await s.hec.stop(); // connections refused from here on
    const atStart = vmHwmMiB(s.sidecar.pid);
    const url = new URL(s.sidecar.url);
    const agent = new Agent({ keepAlive: true, maxSockets: CONCURRENCY });
    const statuses = new Map<number, number>();
    let next = 0;
    await Promise.all(
      Array.from({ length: CONCURRENCY }, async () => {
        while (next < REQUESTS) {
          const body = bodies[next++ % bodies.length] as Buffer;
          const status = await send(url, body, agent);
          statuses.set(status, (statuses.get(status) ?? 0) + 1);
        }
      }),
    );
    agent.destroy();
    const peak = vmHwmMiB(s.sidecar.pid);
    console.info(
      `sidecar VmHWM: ${atStart.toFixed(0)} MiB at start, ${peak.toFixed(0)} MiB after the flood (bound ${RSS_BOUND_MIB} MiB)`,
    );
    expect(statuses).toEqual(new Map([[401, REQUESTS]]));
    expect(peak).toBeLessThan(RSS_BOUND_MIB);
    expect(await s.sidecar.metric('portcullis_sidecar_authn_failures_total')).toBe(REQUESTS);

    await s.hec.start(); // the sink comes back on the same port
    const accounted = async () => (await s.auditCount('delivered')) + (await s.auditCount('dropped'));
    for (let i = 0; i < 600 && (await accounted()) < REQUESTS; i++)
      await new Promise((r) => setTimeout(r, 100));
    const [delivered, dropped] = [await s.auditCount('delivered'), await s.auditCount('dropped')];
    console.info(`audit: ${delivered} delivered, ${dropped} dropped`);
    expect(delivered + dropped).toBe(REQUESTS);
    const events = s.events();
    expect(events).toHaveLength(delivered);
    expect(events.every((e) => e.outcome === 'unauthenticated' && e.payload === undefined)).toBe(true);
    expect(Math.max(...events.map((e) => JSON.stringify(e).length))).toBeLessThan(4096);
    if (dropped === 0) expect(verifyText(s.hec.events.join('\n')).failure).toBeUndefined();
  }, 600_000);
});
