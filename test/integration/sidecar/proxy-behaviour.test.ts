import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningSidecar } from '../../../sidecar/src/server/sidecar.ts';
import { type EchoUpstream, startEchoUpstream } from '../../support/echo-upstream.ts';
import {
  allow,
  collectRecords,
  config,
  initializeBody,
  KEYS,
  messageOf,
  post,
  type Recorded,
  sidecarFor,
} from '../../support/harness.ts';

// Behaviour only an instrumented upstream can show: what reaches the server (no caller credentials,
// injected upstream credentials), list filtering across pages, sessions bound to their principal,
// and JSON-RPC batches authorized element by element.

let upstream: EchoUpstream;
let sidecar: RunningSidecar;
let recorder: Recorded;

beforeAll(async () => {
  upstream = await startEchoUpstream();
  recorder = collectRecords();
  sidecar = await sidecarFor(
    config({
      upstream: {
        transport: 'streamable-http',
        url: upstream.url,
        headers: [{ name: 'X-Upstream-Token', valueFrom: { env: 'UPSTREAM_TOKEN' } }],
      } as never,
      rules: [
        allow('alice-some', { subjects: [{ user: 'alice' }], tools: ['alpha', 'gamma', 'eta', 'headers'] }),
        allow('sales-small-amounts', {
          subjects: [{ group: 'sales' }],
          tools: ['alpha'],
          when: 'arguments.amount < 100',
        }),
      ],
    }),
    recorder,
    { env: { UPSTREAM_TOKEN: 'sidecar-own-credential' } },
  );
});

afterAll(async () => {
  await sidecar?.close();
  await upstream?.close();
});

async function connect(key: string, auth: 'x-api-key' | 'bearer' = 'x-api-key') {
  const headers = auth === 'x-api-key' ? { 'x-api-key': key } : { authorization: `Bearer ${key}` };
  const transport = new StreamableHTTPClientTransport(new URL(sidecar.url), { requestInit: { headers } });
  const client = new Client({ name: 'proxy-test', version: '1' });
  await client.connect(transport);
  return { client, transport };
}

describe('what the upstream sees', () => {
  it.each([['x-api-key' as const], ['bearer' as const]])(
    "never receives the caller's credential (%s) but gets the injected upstream header",
    async (auth) => {
      const { client } = await connect(KEYS.alice, auth);
      const result = (await client.callTool({ name: 'headers', arguments: {} })) as {
        content: { text: string }[];
      };
      const received = JSON.parse(result.content[0]?.text ?? '{}') as Record<string, string>;
      expect(received['x-upstream-token']).toBe('sidecar-own-credential');
      expect(received.authorization).toBeUndefined();
      expect(received['x-api-key']).toBeUndefined();
      const everything = JSON.stringify(upstream.seen);
      expect(everything).not.toContain(KEYS.alice);
      await client.close();
    },
  );
});

describe('CEL conditions on arguments', () => {
  it.each([
    ['allowed when the condition holds', { amount: 50 }, undefined],
    ['denied when it does not', { amount: 500 }, -32003],
    ['denied when the argument is missing (fails closed)', {}, -32003],
  ])('%s', async (_name, args, code) => {
    const { client } = await connect(KEYS.bob);
    const outcome = await client.callTool({ name: 'alpha', arguments: args }).then(
      () => undefined,
      (e: { code?: number }) => e.code,
    );
    expect(outcome).toBe(code);
    await client.close();
  });
});

describe('trace context', () => {
  it("carries the caller's trace id to the upstream and into the record", async () => {
    const traceId = '4bf92f3577b34da6a3ce929d0e0e4736';
    const transport = new StreamableHTTPClientTransport(new URL(sidecar.url), {
      requestInit: { headers: { 'x-api-key': KEYS.alice, traceparent: `00-${traceId}-00f067aa0ba902b7-01` } },
    });
    const client = new Client({ name: 'trace', version: '1' });
    await client.connect(transport);
    const result = (await client.callTool({ name: 'headers', arguments: {} })) as {
      content: { text: string }[];
    };
    const received = JSON.parse(result.content[0]?.text ?? '{}') as Record<string, string>;
    expect(received.traceparent).toContain(traceId);
    const record = recorder.records.find(
      (r) => r.target?.tool === 'headers' && r.traceparent?.includes(traceId),
    );
    expect(record).toBeDefined();
    await client.close();
  });

  it('records the trace id a caller puts only in params._meta (no SDK here, so no spans)', async () => {
    const traceId = '5cf92f3577b34da6a3ce929d0e0e4737';
    const { client } = await connect(KEYS.alice);
    await client.callTool({
      name: 'headers',
      arguments: {},
      _meta: { traceparent: `00-${traceId}-00f067aa0ba902b7-01` },
    });
    const record = recorder.records.find(
      (r) => r.target?.tool === 'headers' && r.traceparent?.includes(traceId),
    );
    expect(record).toBeDefined();
    await client.close();
  });
});

describe('list filtering', () => {
  it('filters every page and keeps the cursor, so pagination still reaches the end', async () => {
    const { client } = await connect(KEYS.alice);
    const pages: string[][] = [];
    let cursor: string | undefined;
    do {
      const page = await client.listTools(cursor === undefined ? {} : { cursor });
      pages.push(page.tools.map((t) => t.name));
      cursor = page.nextCursor;
    } while (cursor !== undefined);
    expect(pages).toEqual([['alpha', 'gamma'], [], ['eta', 'headers']]);
    await client.close();
  });
});

describe('session binding', () => {
  it("refuses another principal presenting someone else's session id (404), and DELETE too", async () => {
    const { client, transport } = await connect(KEYS.alice);
    const sessionId = transport.sessionId as string;
    expect(sessionId).toBeTruthy();
    const hijack = await post(sidecar.url, JSON.stringify({ jsonrpc: '2.0', id: 5, method: 'tools/list' }), {
      'x-api-key': KEYS.mallory,
      'mcp-session-id': sessionId,
      'mcp-protocol-version': '2025-06-18',
    });
    expect(hijack.status).toBe(404);
    expect(messageOf(hijack.text)).toMatchObject({ id: 5, error: { code: -32001 } });
    const del = await fetch(sidecar.url, {
      method: 'DELETE',
      headers: { 'x-api-key': KEYS.mallory, 'mcp-session-id': sessionId },
    });
    expect(del.status).toBe(404);
    // the owner's session still works
    const { tools } = await client.listTools();
    expect(tools.length).toBeGreaterThan(0);
    await client.close();
  });

  it('opens the GET stream for the owner only, and DELETE ends the session', async () => {
    const init = await post(sidecar.url, initializeBody(1), { 'x-api-key': KEYS.alice });
    const sid = init.headers.get('mcp-session-id') as string;
    const h = { 'x-api-key': KEYS.alice, 'mcp-session-id': sid, 'mcp-protocol-version': '2025-06-18' };
    await post(sidecar.url, JSON.stringify({ jsonrpc: '2.0', method: 'notifications/initialized' }), h);

    const ac = new AbortController();
    const stream = await fetch(sidecar.url, {
      headers: { ...h, accept: 'text/event-stream' },
      signal: ac.signal,
    });
    expect(stream.status).toBe(200);
    expect(stream.headers.get('content-type')).toContain('text/event-stream');
    ac.abort();

    const foreign = await fetch(sidecar.url, {
      headers: { ...h, 'x-api-key': KEYS.mallory, accept: 'text/event-stream' },
    });
    expect(foreign.status).toBe(404);
    const none = await fetch(sidecar.url, {
      headers: { 'x-api-key': KEYS.alice, accept: 'text/event-stream' },
    });
    expect(none.status).toBe(400);

    const del = await fetch(sidecar.url, { method: 'DELETE', headers: h });
    expect(del.status).toBe(200);
    const after = await post(sidecar.url, JSON.stringify({ jsonrpc: '2.0', id: 3, method: 'tools/list' }), h);
    expect(after.status).toBe(404);
  });

  it('refuses a session id the sidecar never issued', async () => {
    const res = await post(sidecar.url, JSON.stringify({ jsonrpc: '2.0', id: 6, method: 'tools/list' }), {
      'x-api-key': KEYS.alice,
      'mcp-session-id': 'made-up-session',
    });
    expect(res.status).toBe(404);
  });
});

describe('JSON-RPC batches (2025-03-26)', () => {
  async function session() {
    const init = await post(sidecar.url, initializeBody(1, '2025-03-26'), { 'x-api-key': KEYS.alice });
    const sid = init.headers.get('mcp-session-id') as string;
    const h = { 'x-api-key': KEYS.alice, 'mcp-session-id': sid, 'mcp-protocol-version': '2025-03-26' };
    await post(sidecar.url, JSON.stringify({ jsonrpc: '2.0', method: 'notifications/initialized' }), h);
    return h;
  }

  it('forwards a batch whose every element is allowed', async () => {
    const h = await session();
    const res = await post(
      sidecar.url,
      JSON.stringify([
        { jsonrpc: '2.0', id: 10, method: 'tools/call', params: { name: 'alpha', arguments: {} } },
        { jsonrpc: '2.0', id: 11, method: 'tools/call', params: { name: 'gamma', arguments: {} } },
      ]),
      h,
    );
    expect(res.status).toBe(200);
    const replies = messageOf(res.text) as { id: number; result: unknown }[];
    expect(replies.map((r) => r.id).sort()).toEqual([10, 11]);
  });

  it('refuses the whole batch when one element is denied, answering each request with its id', async () => {
    const h = await session();
    const before = upstream.seen.length;
    const res = await post(
      sidecar.url,
      JSON.stringify([
        { jsonrpc: '2.0', id: 20, method: 'tools/call', params: { name: 'alpha', arguments: {} } },
        { jsonrpc: '2.0', id: 21, method: 'tools/call', params: { name: 'beta', arguments: {} } },
      ]),
      h,
    );
    expect(res.status).toBe(200);
    const replies = JSON.parse(res.text) as {
      id: number;
      error: { code: number; data: { reason: string } };
    }[];
    expect(replies.map((r) => [r.id, r.error.code])).toEqual([
      [20, -32003],
      [21, -32003],
    ]);
    expect(replies[1]?.error.data.reason).toMatch(/no rule allows/);
    expect(replies[0]?.error.data.reason).toMatch(/element 1/);
    expect(upstream.seen.length).toBe(before);
  });

  it('refuses batches under protocol revisions that removed them', async () => {
    const res = await post(sidecar.url, JSON.stringify([{ jsonrpc: '2.0', id: 1, method: 'ping' }]), {
      'x-api-key': KEYS.alice,
      'mcp-protocol-version': '2025-06-18',
    });
    expect(res.status).toBe(400);
    expect(JSON.parse(res.text)).toMatchObject({ error: { code: -32600 } });
  });
});

describe('records', () => {
  it('records denied batch elements and refused hijacks', () => {
    expect(recorder.records.some((r) => r.target?.tool === 'beta' && r.outcome === 'denied')).toBe(true);
    expect(
      recorder.records.some((r) => r.errorCode === 'SESSION_NOT_FOUND' && r.principal?.subject === 'mallory'),
    ).toBe(true);
  });
});
