import { createServer, type Server } from 'node:http';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type EverythingServer, startEverything } from '../../../sidecar/src/quickstart/everything.ts';
import { MAX_OUTSTANDING_LISTS } from '../../../sidecar/src/server/legacy-sse.ts';
import type { RunningSidecar } from '../../../sidecar/src/server/sidecar.ts';
import { type PythonSseServer, startPythonSse } from '../../fixtures/python-sse/python-sse.ts';
import {
  allow,
  collectRecords,
  config,
  deny,
  KEYS,
  legacySseTransport,
  type Recorded,
  sidecarFor,
} from '../../support/harness.ts';

// The legacy HTTP+SSE transport: every message on the stream filtered and audited, whatever the
// upstream's endpoint looks like. A Python SDK server (whose endpoint uses ?session_id=), the
// everything server held stopped while 300 list requests wait, and an upstream whose endpoint
// points at another origin.

const headers = { 'x-api-key': KEYS.alice };

/** Reads an SSE response as it arrives and hands out its events' data. */
class StreamReader {
  readonly events: { event: string | undefined; data: string }[] = [];
  #waiters: (() => void)[] = [];

  constructor(body: ReadableStream<Uint8Array>) {
    void this.#read(body.pipeThrough(new TextDecoderStream()).getReader());
  }

  async #read(reader: ReadableStreamDefaultReader<string>) {
    let buffer = '';
    for (;;) {
      const { value, done } = await reader.read().catch(() => ({ value: undefined, done: true }));
      if (done) return;
      buffer += value;
      let end = buffer.indexOf('\n\n');
      while (end !== -1) {
        const lines = buffer.slice(0, end).split('\n');
        buffer = buffer.slice(end + 2);
        const event = lines
          .find((l) => l.startsWith('event:'))
          ?.slice(6)
          .trim();
        const data = lines
          .filter((l) => l.startsWith('data:'))
          .map((l) => l.slice(5).trim())
          .join('\n');
        this.events.push({ event, data });
        end = buffer.indexOf('\n\n');
      }
      for (const w of this.#waiters.splice(0)) w();
    }
  }

  /** The messages on the stream so far (JSON-RPC, parsed). */
  messages(): { id?: number; result?: { tools: { name: string }[] }; error?: { code: number } }[] {
    return this.events.filter((e) => e.event !== 'endpoint').map((e) => JSON.parse(e.data));
  }

  async until(enough: () => boolean): Promise<void> {
    while (!enough()) await new Promise<void>((r) => this.#waiters.push(r));
  }
}

describe('a Python SDK server (endpoint with ?session_id=)', () => {
  let python: PythonSseServer;
  let sidecar: RunningSidecar;
  let recorder: Recorded;
  beforeAll(async () => {
    python = await startPythonSse();
    recorder = collectRecords();
    sidecar = await sidecarFor(
      config({
        upstream: { transport: 'sse', url: python.url },
        rules: [allow('all-tools', { tools: ['*'] }), deny('no-secret', { tools: ['get_secret'] })],
      }),
      recorder,
    );
  }, 180_000);
  afterAll(async () => {
    await sidecar?.close();
    await python?.close();
  });

  it('connects, lists filtered, calls, and audits each notification and answer on the stream as its own event', async () => {
    const client = new Client({ name: 'legacy', version: '1' });
    await client.connect(legacySseTransport(sidecar.url, KEYS.alice));
    try {
      const { tools } = await client.listTools();
      expect(tools.map((t) => t.name).sort()).toEqual(['count', 'echo']);
      const called = await client.callTool({ name: 'echo', arguments: { message: 'hi' } });
      expect(called.content).toEqual([{ type: 'text', text: 'Echo: hi' }]);
      const secret = await client.callTool({ name: 'get_secret', arguments: {} }).catch((e) => e);
      expect(secret.code).toBe(-32003);
      // The server sends three progress notifications before its answer. The SDK client's onprogress
      // sees fewer of them, directly as through the sidecar, so the records are what is counted.
      await client.callTool({ name: 'count', arguments: { steps: 3 } }, undefined, { onprogress: () => {} });
      const notified = recorder.records.filter((r) => r.method === 'notifications/progress');
      expect(notified).toHaveLength(3);
      for (const r of notified)
        expect(r).toMatchObject({ direction: 'server-to-client', kind: 'notification', httpMethod: 'GET' });
      // Each answer of the server is an event of its own (its request's event ended at the POST's 202);
      // the denial is the sidecar's own answer.
      const answers = recorder.records.filter(
        (r) => r.direction === 'server-to-client' && r.method === 'response',
      );
      expect(answers.map((r) => r.jsonrpcId)).toEqual(
        recorder.records
          .filter((r) => r.kind === 'request' && r.direction === undefined && r.outcome === 'allowed')
          .map((r) => r.jsonrpcId),
      );
    } finally {
      await client.close();
    }
  });
});

describe('more list requests awaiting an answer than the session may hold', () => {
  let everything: EverythingServer;
  let sidecar: RunningSidecar;
  let recorder: Recorded;
  beforeAll(async () => {
    everything = await startEverything('sse');
    recorder = collectRecords();
    sidecar = await sidecarFor(
      config({
        upstream: { transport: 'sse', url: everything.url },
        rules: [allow('all-tools', { tools: ['*'] }), deny('no-env', { tools: ['get-env'] })],
      }),
      recorder,
    );
  });
  afterAll(async () => {
    everything?.process.kill('SIGCONT');
    await sidecar?.close();
    await everything?.close();
  });

  it('refuses those over the bound with a JSON-RPC error and filters every answer', async () => {
    const abort = new AbortController();
    const res = await fetch(sidecar.url, {
      headers: { ...headers, accept: 'text/event-stream' },
      signal: abort.signal,
    });
    const stream = new StreamReader(res.body as ReadableStream<Uint8Array>);
    await stream.until(() => stream.events.length > 0);
    const endpoint = new URL(stream.events[0]?.data as string, sidecar.url);
    const post = (body: unknown) =>
      fetch(endpoint, {
        method: 'POST',
        headers: { ...headers, 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
    await post({
      jsonrpc: '2.0',
      id: 0,
      method: 'initialize',
      params: { protocolVersion: '2024-11-05', capabilities: {}, clientInfo: { name: 'raw', version: '1' } },
    });
    await stream.until(() => stream.messages().length === 1);
    await post({ jsonrpc: '2.0', method: 'notifications/initialized' });

    const total = 300;
    const over = total - MAX_OUTSTANDING_LISTS;
    // The server is held stopped, so no list request is answered while the others arrive.
    everything.process.kill('SIGSTOP');
    let posts: Promise<Response>[] = [];
    try {
      posts = Array.from({ length: total }, (_, i) =>
        post({ jsonrpc: '2.0', id: i + 1, method: 'tools/list' }),
      );
      const refused = () => stream.messages().filter((m) => m.error?.code === -32004);
      await stream.until(() => refused().length === over);
    } finally {
      everything.process.kill('SIGCONT');
    }
    await Promise.all(posts);
    await stream.until(
      () => stream.messages().filter((m) => m.id !== undefined && m.id > 0).length === total,
    );
    abort.abort();

    // Only the answers: the server may send notifications of its own meanwhile.
    const replies = stream.messages().filter((m) => m.id !== undefined && m.id > 0);
    const lists = replies.filter((m) => m.result !== undefined);
    expect(lists).toHaveLength(MAX_OUTSTANDING_LISTS);
    for (const m of lists) {
      const names = m.result?.tools.map((t) => t.name) ?? [];
      expect(names).toContain('echo');
      expect(names).not.toContain('get-env');
    }
    expect(replies.filter((m) => m.error?.code === -32004)).toHaveLength(over);
    expect(new Set(replies.map((m) => m.id)).size).toBe(total);
    expect(recorder.records.filter((r) => r.errorCode === 'TOO_MANY_OUTSTANDING')).toHaveLength(over);
  }, 60_000);
});

describe('an endpoint event that points at another origin', () => {
  let upstream: Server;
  let sidecar: RunningSidecar;
  let recorder: Recorded;
  beforeAll(async () => {
    // A hostile upstream: no real server sends its clients elsewhere, so this one is written here.
    upstream = createServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.write('event: endpoint\ndata: http://127.0.0.2:9/message?sessionId=abc\n\n');
    });
    await new Promise<void>((r) => upstream.listen(0, '127.0.0.1', r));
    const { port } = upstream.address() as { port: number };
    recorder = collectRecords();
    sidecar = await sidecarFor(
      config({ upstream: { transport: 'sse', url: `http://127.0.0.1:${port}/sse` } }),
      recorder,
    );
  });
  afterAll(async () => {
    await sidecar?.close();
    upstream?.closeAllConnections();
    await new Promise<void>((r) => upstream?.close(() => r()));
  });

  it('refuses the stream with 502 and records why', async () => {
    const res = await fetch(sidecar.url, { headers: { ...headers, accept: 'text/event-stream' } });
    expect(res.status).toBe(502);
    expect(((await res.json()) as { error: { code: number } }).error.code).toBe(-32603);
    const [record] = recorder.records;
    expect(record).toMatchObject({ outcome: 'failed', errorCode: 'UPSTREAM_PROTOCOL', httpMethod: 'GET' });
    expect(record?.reason).toContain('another origin');
  });
});
