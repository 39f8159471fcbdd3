import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { CreateMessageRequestSchema } from '@modelcontextprotocol/sdk/types.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type EverythingServer, startEverything } from '../../../sidecar/src/quickstart/everything.ts';
import type { RunningSidecar } from '../../../sidecar/src/server/sidecar.ts';
import { startHecReceiver } from '../../support/audit-receivers.ts';
import {
  allow,
  collectRecords,
  config,
  deny,
  initializeBody,
  KEYS,
  MCP_HEADERS,
  type Recorded,
  sidecarFor,
} from '../../support/harness.ts';

// Every server-to-client message on every Streamable HTTP stream passes the same filter and gets its
// own audit event: a stream resumed with Last-Event-ID, progress notifications and the server's own
// requests on a POST's reply stream; GET and DELETE are one event each. Against the real everything
// server, whose event store replays every event of the session after the one named.

let everything: EverythingServer;
let sidecar: RunningSidecar;
let recorder: Recorded;

beforeAll(async () => {
  everything = await startEverything('streamableHttp');
  recorder = collectRecords();
  sidecar = await sidecarFor(
    config({
      upstream: { transport: 'streamable-http', url: everything.url },
      rules: [allow('all-tools', { tools: ['*'] }), deny('no-env', { tools: ['get-env'] })],
    }),
    recorder,
  );
});

afterAll(async () => {
  await sidecar?.close();
  await everything?.close();
});

const VERSION = '2025-06-18';

/** The SSE events of a complete body: id and data of each. */
function events(text: string): { id: string | undefined; data: string }[] {
  return text
    .split(/\n\n/)
    .filter((e) => e.trim() !== '')
    .map((e) => {
      const lines = e.split('\n');
      return {
        id: lines
          .find((l) => l.startsWith('id:'))
          ?.slice(3)
          .trim(),
        data: lines
          .filter((l) => l.startsWith('data:'))
          .map((l) => l.slice(5).trim())
          .join('\n'),
      };
    });
}

async function postRaw(body: string, headers: Record<string, string>) {
  const res = await fetch(sidecar.url, { method: 'POST', headers: { ...MCP_HEADERS, ...headers }, body });
  return { res, text: await res.text() };
}

/** Waits until `predicate` holds for the records (they are written when an exchange ends). */
async function recordsWhere(predicate: (r: Recorded['records'][number]) => boolean, n = 1) {
  for (;;) {
    const found = recorder.records.filter(predicate);
    if (found.length >= n) return found;
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('a stream resumed with Last-Event-ID', () => {
  it('replays the answer to tools/list filtered, and audits it as a server-to-client message', async () => {
    const key = { 'x-api-key': KEYS.alice };
    const init = await postRaw(initializeBody(1, VERSION), key);
    const sid = init.res.headers.get('mcp-session-id') as string;
    const initId = events(init.text)[0]?.id;
    expect(initId).toBeDefined();
    const session = { ...key, 'mcp-session-id': sid, 'mcp-protocol-version': VERSION };
    await postRaw(JSON.stringify({ jsonrpc: '2.0', method: 'notifications/initialized' }), session);
    const listed = await postRaw(JSON.stringify({ jsonrpc: '2.0', id: 2, method: 'tools/list' }), session);
    const direct = JSON.parse(events(listed.text)[0]?.data as string);
    expect(direct.result.tools.map((t: { name: string }) => t.name)).not.toContain('get-env');

    // Resume from the initialize answer: the server replays the tools/list answer from its store.
    const abort = new AbortController();
    const res = await fetch(sidecar.url, {
      headers: { ...session, accept: 'text/event-stream', 'last-event-id': initId as string },
      signal: abort.signal,
    });
    expect(res.status).toBe(200);
    const reader = (res.body as ReadableStream<Uint8Array>).pipeThrough(new TextDecoderStream()).getReader();
    let seen = '';
    let replayed: { id: number; result: { tools: { name: string }[] } } | undefined;
    while (replayed === undefined) {
      const { value, done } = await reader.read();
      if (done) break;
      seen += value;
      replayed = events(seen.slice(0, seen.lastIndexOf('\n\n') + 2))
        .map((e) => JSON.parse(e.data))
        .find((m) => m.id === 2);
    }
    abort.abort();
    const names = replayed?.result.tools.map((t) => t.name) ?? [];
    expect(names).toContain('echo');
    expect(names).not.toContain('get-env');

    const [answer] = await recordsWhere(
      (r) => r.session === sid && r.direction === 'server-to-client' && r.jsonrpcId === 2,
    );
    expect(answer).toMatchObject({ method: 'response', kind: 'response', httpMethod: 'GET' });
    expect(answer?.principal?.subject).toBe('alice');
    // The stream itself: one event, written when it ends.
    const streams = await recordsWhere((r) => r.session === sid && r.method === 'http');
    expect(streams).toHaveLength(1);
    expect(streams[0]).toMatchObject({ httpMethod: 'GET', outcome: 'allowed', httpStatus: 200 });
  });
});

describe("the server's notifications and requests on a POST's reply stream", () => {
  it('audits each progress notification and each sampling request, one event each', async () => {
    const transport = new StreamableHTTPClientTransport(new URL(sidecar.url), {
      requestInit: { headers: { 'x-api-key': KEYS.alice } },
    });
    const client = new Client({ name: 'streams', version: '1' }, { capabilities: { sampling: {} } });
    client.setRequestHandler(CreateMessageRequestSchema, async () => ({
      model: 'test-model',
      role: 'assistant',
      content: { type: 'text', text: 'sampled' },
    }));
    await client.connect(transport);
    const sid = transport.sessionId as string;
    try {
      const progress: number[] = [];
      await client.callTool(
        { name: 'trigger-long-running-operation', arguments: { duration: 0.3, steps: 3 } },
        undefined,
        { onprogress: (p) => void progress.push(p.progress) },
      );
      expect(progress).toEqual([1, 2, 3]);
      const notified = recorder.records.filter(
        (r) => r.session === sid && r.method === 'notifications/progress',
      );
      expect(notified).toHaveLength(3);
      for (const r of notified) {
        expect(r).toMatchObject({ direction: 'server-to-client', kind: 'notification', outcome: 'allowed' });
        expect(r.principal?.subject).toBe('alice');
      }

      const sampled = (
        await client.callTool({ name: 'trigger-sampling-request', arguments: { prompt: 'hi' } })
      ).content as { text: string }[];
      expect(JSON.stringify(sampled)).toContain('sampled');
      const asked = recorder.records.filter(
        (r) => r.session === sid && r.method === 'sampling/createMessage',
      );
      expect(asked).toHaveLength(1);
      expect(asked[0]).toMatchObject({ direction: 'server-to-client', kind: 'request' });
      // The client's answer to it is the caller's own message, audited as such.
      const answered = recorder.records.filter(
        (r) => r.session === sid && r.method === 'response' && r.direction === undefined,
      );
      expect(answered.map((r) => r.jsonrpcId)).toEqual([asked[0]?.jsonrpcId]);
    } finally {
      await transport.terminateSession();
      await client.close();
    }
    const deleted = await recordsWhere((r) => r.session === sid && r.httpMethod === 'DELETE');
    expect(deleted).toHaveLength(1);
    expect(deleted[0]).toMatchObject({ method: 'http', outcome: 'allowed' });
  });
});

describe('failureMode closed while the audit cannot record', () => {
  it("holds back the server's notifications, and still delivers the answer of the admitted call", async () => {
    const hec = await startHecReceiver('closed-token');
    const dir = mkdtempSync(join(tmpdir(), 'closed-audit-'));
    writeFileSync(join(dir, 'token'), 'closed-token');
    const closed = await sidecarFor(
      config({
        upstream: { transport: 'streamable-http', url: everything.url },
        rules: [allow('all-tools', { tools: ['*'] }), deny('no-env', { tools: ['get-env'] })],
        audit: {
          failureMode: 'closed',
          queue: { retryInitialMs: 50, retryMaxMs: 100, closeTimeoutMs: 100 },
          sinks: [{ type: 'http', url: hec.url, token: { file: join(dir, 'token') } }],
        },
      }),
      undefined,
      { audit: 'config' },
    );
    const transport = new StreamableHTTPClientTransport(new URL(closed.url), {
      requestInit: { headers: { 'x-api-key': KEYS.alice } },
    });
    const client = new Client({ name: 'closed', version: '1' });
    try {
      await client.connect(transport);
      const progress: number[] = [];
      let firstProgress: () => void = () => {};
      const first = new Promise<void>((r) => {
        firstProgress = r;
      });
      // Admitted while the sink is healthy; its first progress notification passes. Then the server
      // is held stopped until the sidecar has seen an audit write fail, so the second one comes
      // while the audit cannot record.
      const call = client.callTool(
        { name: 'trigger-long-running-operation', arguments: { duration: 4, steps: 2 } },
        undefined,
        {
          onprogress: (p) => {
            progress.push(p.progress);
            firstProgress();
          },
          timeout: 60_000,
        },
      );
      await first;
      everything.process.kill('SIGSTOP');
      try {
        hec.failWith = 503;
        // A denial is recorded without the upstream: its event is the write that fails.
        await client.callTool({ name: 'get-env', arguments: {} }).catch(() => undefined);
        for (;;) {
          const metrics = await (await fetch(`${closed.adminUrl}/metrics`)).text();
          if (/portcullis_sidecar_audit_events_total\{[^}]*result="retried"[^}]*\} [1-9]/.test(metrics))
            break;
          await new Promise((r) => setTimeout(r, 50));
        }
      } finally {
        everything.process.kill('SIGCONT');
      }
      const result = await call;
      expect(JSON.stringify(result.content)).toContain('Long running operation completed');
      expect(progress).toEqual([1]);
    } finally {
      everything.process.kill('SIGCONT');
      await client.close();
      await closed.close();
      await hec.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  }, 60_000);
});
