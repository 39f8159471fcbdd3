import { randomUUID } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { createServer } from 'node:net';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { Registry } from 'prom-client';
import { afterEach, describe, expect, it } from 'vitest';
import { type RunningSidecar, startSidecar } from '../../../sidecar/src/server/sidecar.ts';
import { createSidecarMetrics } from '../../../sidecar/src/telemetry/metrics.ts';
import { type StdioBridge, startStdioBridge } from '../../../sidecar/src/upstream/stdio-bridge.ts';
import { collectRecords, config, KEYS, MCP_HEADERS, messageOf } from '../../support/harness.ts';
import {
  connect,
  expectIsolated,
  INITIALIZE,
  marked,
  type Processes,
  stateServerUpstream,
  waitForMarked,
} from '../../support/stdio-fixture.ts';

// The stdio upstream's process limits, with a real stdio MCP server (the state server fixture, one
// process per session) behind the sidecar and real SDK clients: isolation, the cap, idle reclaim,
// session end, the warm pool, the log of each process's stderr, a process that dies mid-call.

let sidecar: RunningSidecar | undefined;
let bridge: StdioBridge | undefined;
afterEach(async () => {
  await sidecar?.close();
  await bridge?.close();
  sidecar = undefined;
  bridge = undefined;
});

/** A sidecar in front of the state server, keeping its records and its log lines. */
async function start(marker: string, p: Partial<Processes>) {
  const recorder = collectRecords();
  const lines: Record<string, unknown>[] = [];
  const logger = pino(
    { level: 'info' },
    new Writable({
      write(chunk: Buffer, _enc, done) {
        for (const l of chunk.toString().split('\n')) if (l) lines.push(JSON.parse(l));
        done();
      },
    }),
  );
  sidecar = await startSidecar({
    config: config({ upstream: stateServerUpstream(marker, p) }),
    recorder,
    logger,
    audit: 'off',
    portOverride: 0,
    adminPortOverride: 0,
  });
  return { sidecar, recorder, lines };
}

async function until(done: () => boolean, what: string, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!done()) {
    if (Date.now() > deadline) throw new Error(`not seen in time: ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

const sessionOf = (l: Record<string, unknown>) => (l.stdio as { session?: string } | undefined)?.session;

async function value(s: RunningSidecar, name: string, labels: Record<string, string>): Promise<number> {
  const metric = s.metrics.registry.getSingleMetric(name);
  const values = (await metric?.get())?.values ?? [];
  return (
    values.find((v) => Object.entries(labels).every(([k, l]) => v.labels[k] === l) && !('le' in v.labels))
      ?.value ?? 0
  );
}

describe('stdio upstream processes', () => {
  it('gives two callers two processes: what one remembers, the other does not see', async () => {
    const marker = randomUUID();
    const { sidecar } = await start(marker, {});
    const [a, b] = await expectIsolated(sidecar.url, marker);
    await a.client.close();
    await b.client.close();
  });

  it('holds maxProcesses under 30 concurrent initializes: 8 processes, 22 refused with 503, each refusal audited', async () => {
    const marker = randomUUID();
    const { sidecar, recorder } = await start(marker, { maxProcesses: 8 });
    const replies = await Promise.all(
      Array.from({ length: 30 }, () =>
        fetch(sidecar.url, {
          method: 'POST',
          headers: { ...MCP_HEADERS, 'x-api-key': KEYS.alice },
          body: INITIALIZE,
        }).then(async (r) => ({ status: r.status, headers: r.headers, text: await r.text() })),
      ),
    );
    const opened = replies.filter((r) => r.status === 200);
    const refused = replies.filter((r) => r.status === 503);
    expect(opened).toHaveLength(8);
    expect(refused).toHaveLength(22);
    for (const r of refused) {
      expect(r.headers.get('retry-after')).toBe('5');
      expect(JSON.parse(r.text)).toEqual({
        jsonrpc: '2.0',
        id: 1,
        error: { code: -32603, message: 'Upstream MCP server at capacity; try again later' },
      });
    }
    expect(marked(marker)).toHaveLength(8);
    const audited = recorder.records.filter((r) => r.method === 'initialize' && r.httpStatus === 503);
    expect(audited).toHaveLength(22);
    for (const r of audited) {
      expect(r.outcome).toBe('failed');
      expect(r.result).toEqual({
        isError: true,
        errorCode: -32603,
        errorMessage: 'Upstream MCP server at capacity; try again later',
      });
    }
    expect(await value(sidecar, 'portcullis_sidecar_stdio_sessions_refused_total', {})).toBe(22);
    expect(await value(sidecar, 'portcullis_sidecar_stdio_processes', { state: 'session' })).toBe(8);
    expect(await value(sidecar, 'portcullis_sidecar_stdio_processes_started_total', {})).toBe(8);

    // DELETE ends each session and stops its process group.
    for (const r of opened) {
      const sid = r.headers.get('mcp-session-id') as string;
      const del = await fetch(sidecar.url, {
        method: 'DELETE',
        headers: { 'x-api-key': KEYS.alice, 'mcp-session-id': sid, 'mcp-protocol-version': '2025-06-18' },
      });
      expect(del.status).toBe(200);
    }
    await waitForMarked(marker, (pids) => pids.length === 0, 'processes after DELETE');
    expect(
      await value(sidecar, 'portcullis_sidecar_stdio_processes_reclaimed_total', { reason: 'session_end' }),
    ).toBe(8);
    // Room again: a new session gets a process.
    const again = await connect(sidecar.url);
    expect((await again.call('recall')).remembered).toBeNull();
    await again.client.close();
  });

  it('starts no process for a message without a session that is not an initialize', async () => {
    const marker = randomUUID();
    const { sidecar, recorder } = await start(marker, {});
    for (let id = 1; id <= 5; id++) {
      const res = await fetch(sidecar.url, {
        method: 'POST',
        headers: { ...MCP_HEADERS, 'x-api-key': KEYS.alice, 'mcp-protocol-version': '2025-06-18' },
        body: JSON.stringify({ jsonrpc: '2.0', id, method: 'tools/list' }),
      });
      expect(res.status).toBe(400);
      expect(((await res.json()) as { error: { message: string } }).error.message).toBe(
        'Mcp-Session-Id header required',
      );
    }
    expect(marked(marker)).toEqual([]);
    expect(await value(sidecar, 'portcullis_sidecar_stdio_processes_started_total', {})).toBe(0);
    expect(recorder.records.filter((r) => r.method === 'tools/list' && r.httpStatus === 400)).toHaveLength(5);
  });

  it('stops the process of an idle session and ends the session; a request in flight is not idle', async () => {
    const marker = randomUUID();
    const { sidecar } = await start(marker, { idleTimeoutMs: 300 });
    const c = await connect(sidecar.url);
    // Longer than the idle timeout, but in flight all along.
    const slow = await c.call('slow', { ms: 1_000 });
    expect(marked(marker)).toEqual([slow.pid]);
    await waitForMarked(marker, (pids) => pids.length === 0, 'the idle process');
    expect(
      await value(sidecar, 'portcullis_sidecar_stdio_processes_reclaimed_total', { reason: 'idle' }),
    ).toBe(1);
    const sid = c.transport.sessionId as string;
    const res = await fetch(sidecar.url, {
      method: 'POST',
      headers: { ...MCP_HEADERS, 'x-api-key': KEYS.alice, 'mcp-session-id': sid },
      body: JSON.stringify({ jsonrpc: '2.0', id: 2, method: 'tools/list' }),
    });
    expect(res.status).toBe(404);
    expect(await value(sidecar, 'portcullis_sidecar_active_sessions', {})).toBe(0);
    await c.client.close();
  });

  it('hands warm processes to new sessions and refills the pool up to maxProcesses', async () => {
    const marker = randomUUID();
    const { sidecar } = await start(marker, { warm: 2, maxProcesses: 3 });
    const warm = await waitForMarked(marker, (pids) => pids.length === 2, 'the warm pool');
    const first = await connect(sidecar.url);
    expect(warm).toContain((await first.call('recall')).pid);
    await waitForMarked(marker, (pids) => pids.length === 3, 'the refilled pool');
    const second = await connect(sidecar.url);
    const third = await connect(sidecar.url);
    expect(marked(marker)).toHaveLength(3);
    const refused = await fetch(sidecar.url, {
      method: 'POST',
      headers: { ...MCP_HEADERS, 'x-api-key': KEYS.alice },
      body: INITIALIZE,
    });
    expect(refused.status).toBe(503);
    const startup = await sidecar.metrics.stdioStartupDuration.get();
    const count = (pool: string) =>
      startup.values.find((v) => v.metricName?.endsWith('_count') && v.labels.pool === pool)?.value;
    expect(count('warm')).toBe(3);
    expect(count('cold')).toBeUndefined();
    for (const c of [first, second, third]) await c.client.close();
  });

  it("logs each process's stderr line by line, tagged with its session", async () => {
    const marker = randomUUID();
    const { sidecar, lines } = await start(marker, {});
    const c = await connect(sidecar.url);
    const { pid } = await c.call('stderr', { text: 'first line\nsecond line' });
    const sid = c.transport.sessionId;
    const logged = () =>
      lines.filter((l) => sessionOf(l) === sid && !/^state-server \d+ started$/.test(String(l.msg)));
    // stderr and stdout are two pipes: the lines may arrive after the answer.
    await until(() => logged().length >= 2, 'two stderr lines');
    expect(logged().map((l) => l.msg)).toEqual(['first line', 'second line']);
    expect(logged()[0]?.stdio).toEqual({ pid, session: sid, truncated: false });
    await c.client.close();
  });

  it('answers a call in flight with an error when its process dies, and counts the failure', async () => {
    const marker = randomUUID();
    const { sidecar, recorder, lines } = await start(marker, {});
    const c = await connect(sidecar.url);
    const { pid } = await c.call('recall');
    const pending = c.call('slow', { ms: 60_000 }).then(
      () => undefined,
      (e: { code?: number }) => e,
    );
    const sid = c.transport.sessionId;
    await until(
      () => lines.some((l) => sessionOf(l) === sid && l.msg === 'slow call started'),
      'the slow call',
    );
    process.kill(pid, 'SIGKILL');
    const err = await pending;
    expect(err?.code).toBe(-32603);
    await waitForMarked(marker, (pids) => pids.length === 0, 'the killed process');
    expect(
      await value(sidecar, 'portcullis_sidecar_stdio_processes_failed_total', { phase: 'running' }),
    ).toBe(1);
    expect(recorder.records.some((r) => r.target?.tool === 'slow' && r.result?.errorCode === -32603)).toBe(
      true,
    );
    await c.client.close().catch(() => {});
  });
});

describe('stdio upstream when the sidecar cannot start', () => {
  it('stops its warm processes when the MCP port is taken', async () => {
    const marker = randomUUID();
    const taken = createServer();
    await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
    const port = (taken.address() as AddressInfo).port;
    const started = startSidecar({
      config: config({ upstream: stateServerUpstream(marker, { warm: 2 }) }),
      audit: 'off',
      portOverride: port,
      adminPortOverride: 0,
    });
    await expect(started).rejects.toThrow(/EADDRINUSE/);
    taken.close();
    expect(marked(marker)).toEqual([]);
  });
});

describe('stdio bridge', () => {
  it('answers only the sidecar: a local request without its token starts nothing', async () => {
    const marker = randomUUID();
    bridge = await startStdioBridge(config({ upstream: stateServerUpstream(marker, {}) }).upstream);
    for (const authorization of [undefined, 'Bearer wrong']) {
      const res = await fetch(bridge.url, {
        method: 'POST',
        headers: { ...MCP_HEADERS, ...(authorization ? { authorization } : {}) },
        body: INITIALIZE,
      });
      expect(res.status).toBe(403);
    }
    expect(marked(marker)).toEqual([]);
    expect(bridge.sessions).toBe(0);
  });

  it('survives a command that cannot start: warm failures counted, a session gets 502', async () => {
    const metrics = createSidecarMetrics(new Registry());
    const upstream = {
      ...stateServerUpstream(randomUUID(), { warm: 2 }),
      command: '/nonexistent/mcp-server',
    };
    bridge = await startStdioBridge(config({ upstream }).upstream, { metrics, setpriv: undefined });
    const failedAtStart = async () =>
      (await metrics.stdioProcessesFailed.get()).values.find((v) => v.labels.phase === 'start')?.value ?? 0;
    const deadline = Date.now() + 15_000;
    while ((await failedAtStart()) < 2 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    expect(await failedAtStart()).toBeGreaterThanOrEqual(2);
    const res = await fetch(bridge.url, {
      method: 'POST',
      headers: { ...MCP_HEADERS, ...bridge.headers },
      body: INITIALIZE,
    });
    expect(res.status).toBe(502);
    expect(await res.json()).toEqual({
      jsonrpc: '2.0',
      id: 1,
      error: { code: -32603, message: 'Upstream MCP server unavailable' },
    });
  });

  it('stops the process of a session the sidecar forgets (expiry)', async () => {
    const marker = randomUUID();
    const metrics = createSidecarMetrics(new Registry());
    const cfg = config({ upstream: stateServerUpstream(marker, {}) });
    bridge = await startStdioBridge(cfg.upstream, { metrics });
    const res = await fetch(bridge.url, {
      method: 'POST',
      headers: { ...MCP_HEADERS, ...bridge.headers },
      body: INITIALIZE,
    });
    expect(messageOf(await res.text())).toMatchObject({
      id: 1,
      result: { serverInfo: { name: 'state-server' } },
    });
    await waitForMarked(marker, (pids) => pids.length === 1, 'the session process');
    bridge.endSession(res.headers.get('mcp-session-id') as string, 'session_expired');
    await waitForMarked(marker, (pids) => pids.length === 0, 'the expired session process');
    const reclaimed = await metrics.stdioProcessesReclaimed.get();
    expect(reclaimed.values.map((v) => [v.labels.reason, v.value])).toEqual([['session_expired', 1]]);
    expect(bridge.sessions).toBe(0);
  });
});
