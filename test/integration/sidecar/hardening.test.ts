import { request } from 'node:http';
import { createServer, type Server } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../../../sidecar/src/quickstart/everything.ts';
import type { RunningSidecar } from '../../../sidecar/src/server/sidecar.ts';
import { type EchoUpstream, startEchoUpstream } from '../../support/echo-upstream.ts';
import {
  collectRecords,
  config,
  initializeBody,
  KEYS,
  post,
  type Recorded,
  sidecarFor,
} from '../../support/harness.ts';

// Hostile and broken input gets a precise HTTP status and JSON-RPC error, and the sidecar keeps
// serving; a dead or silent upstream gets a quick JSON-RPC error carrying the request id.

let upstream: EchoUpstream;
let sidecar: RunningSidecar;
let recorder: Recorded;
const auth = { 'x-api-key': KEYS.alice };

beforeAll(async () => {
  upstream = await startEchoUpstream();
  recorder = collectRecords();
  sidecar = await sidecarFor(
    config({
      upstream: { transport: 'streamable-http', url: upstream.url },
      limits: { maxBodyBytes: 4096, maxJsonDepth: 16, maxHeaderBytes: 4096, maxBatchSize: 3 },
      allowedOrigins: ['https://app.example'],
    }),
    recorder,
  );
});

afterAll(async () => {
  await sidecar?.close();
  await upstream?.close();
});

const corpus: { name: string; body: string; status: number; code: number; id?: unknown }[] = [
  { name: 'not JSON', body: '{"jsonrpc":"2.0",', status: 400, code: -32700 },
  { name: 'empty body', body: '', status: 400, code: -32700 },
  { name: 'a bare string', body: '"hello"', status: 400, code: -32600 },
  { name: 'null', body: 'null', status: 400, code: -32600 },
  {
    name: 'wrong jsonrpc version',
    body: '{"jsonrpc":"1.0","id":1,"method":"ping"}',
    status: 400,
    code: -32600,
    id: 1,
  },
  {
    name: 'method not a string',
    body: '{"jsonrpc":"2.0","id":2,"method":42}',
    status: 400,
    code: -32600,
    id: 2,
  },
  {
    name: 'params an array',
    body: '{"jsonrpc":"2.0","id":3,"method":"ping","params":[1]}',
    status: 400,
    code: -32600,
    id: 3,
  },
  { name: 'id an object', body: '{"jsonrpc":"2.0","id":{"a":1},"method":"ping"}', status: 400, code: -32600 },
  { name: 'empty batch', body: '[]', status: 400, code: -32600 },
  {
    name: 'batch over the limit',
    body: JSON.stringify(Array(4).fill({ jsonrpc: '2.0', method: 'ping', id: 1 })),
    status: 400,
    code: -32600,
  },
  {
    name: 'nested too deep',
    body: `{"jsonrpc":"2.0","id":4,"method":"ping","params":{"a":${'['.repeat(40)}${']'.repeat(40)}}}`,
    status: 400,
    code: -32600,
  },
  {
    name: 'result and error together',
    body: '{"jsonrpc":"2.0","id":5,"result":{},"error":{}}',
    status: 400,
    code: -32600,
    id: 5,
  },
  { name: 'lone surrogate garbage', body: '\ud800\u0000{', status: 400, code: -32700 },
  {
    name: 'oversized body',
    body: JSON.stringify({ jsonrpc: '2.0', id: 6, method: 'ping', params: { pad: 'x'.repeat(5000) } }),
    status: 413,
    code: -32600,
  },
];

describe('malformed JSON-RPC corpus', () => {
  it.each(corpus)('$name -> HTTP $status, JSON-RPC $code', async ({ body, status, code, id }) => {
    const res = await post(sidecar.url, body, auth);
    expect(res.status).toBe(status);
    const msg = JSON.parse(res.text) as { jsonrpc: string; id: unknown; error: { code: number } };
    expect(msg.jsonrpc).toBe('2.0');
    expect(msg.error.code).toBe(code);
    expect(msg.id).toBe(id ?? null);
  });

  it('is still up and serving after the corpus', async () => {
    const res = await post(sidecar.url, initializeBody(), auth);
    expect(res.status).toBe(200);
  });
});

describe('HTTP-level limits and checks', () => {
  it('refuses a chunked body past the limit with 413', async () => {
    const status = await new Promise<number>((resolve, reject) => {
      const u = new URL(sidecar.url);
      const req = request(
        {
          host: u.hostname,
          port: u.port,
          path: u.pathname,
          method: 'POST',
          headers: { 'content-type': 'application/json', ...auth },
        },
        (res) => {
          res.resume();
          resolve(res.statusCode ?? 0);
        },
      );
      req.on('error', reject);
      for (let i = 0; i < 10; i++) req.write('x'.repeat(1000));
      req.end();
    });
    expect(status).toBe(413);
  });

  it('refuses oversized headers with 431', async () => {
    const res = await post(sidecar.url, initializeBody(), { ...auth, 'x-padding': 'p'.repeat(8000) });
    expect(res.status).toBe(431);
  });

  it.each([
    ['a foreign Origin', { origin: 'https://evil.example' }, 403],
    ['an unsupported MCP-Protocol-Version', { 'mcp-protocol-version': '1999-01-01' }, 400],
    ['a non-JSON content type', { 'content-type': 'text/plain' }, 415],
    ['an Mcp-Method header that disagrees with the body', { 'mcp-method': 'tools/call' }, 400],
    ['an Mcp-Name header that disagrees with the body', { 'mcp-name': 'other' }, 400],
  ])('refuses %s', async (_name, headers, status) => {
    const res = await post(sidecar.url, initializeBody(7), { ...auth, ...headers });
    expect(res.status).toBe(status);
    expect(JSON.parse(res.text)).toMatchObject({ jsonrpc: '2.0', error: {} });
  });

  it('admits an allowed Origin and matching Mcp-Method', async () => {
    const res = await post(sidecar.url, initializeBody(8), {
      ...auth,
      origin: 'https://app.example',
      'mcp-method': 'initialize',
    });
    expect(res.status).toBe(200);
  });

  it('records a refusal for every refused message', () => {
    expect(recorder.records.filter((r) => r.errorCode === 'PARSE_ERROR').length).toBeGreaterThanOrEqual(2);
    expect(recorder.records.some((r) => r.errorCode === 'BODY_TOO_LARGE')).toBe(true);
    expect(recorder.records.some((r) => r.errorCode === 'ORIGIN_NOT_ALLOWED')).toBe(true);
  });
});

describe('unhealthy upstreams', () => {
  it('answers a dead upstream with a JSON-RPC error carrying the request id', async () => {
    const deadPort = await freePort();
    const s = await sidecarFor(
      config({ upstream: { transport: 'streamable-http', url: `http://127.0.0.1:${deadPort}/mcp` } }),
    );
    try {
      const res = await post(s.url, initializeBody(42), auth);
      expect(res.status).toBe(502);
      expect(JSON.parse(res.text)).toMatchObject({ jsonrpc: '2.0', id: 42, error: { code: -32603 } });
    } finally {
      await s.close();
    }
  });

  it('answers an upstream that accepts but never replies within upstream.requestTimeoutMs', async () => {
    const silent: Server = createServer((socket) => socket.on('data', () => {}));
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const port = (silent.address() as { port: number }).port;
    const s = await sidecarFor(
      config({
        upstream: {
          transport: 'streamable-http',
          url: `http://127.0.0.1:${port}/mcp`,
          requestTimeoutMs: 300,
        } as never,
      }),
    );
    try {
      const res = await post(s.url, initializeBody('slow-1'), auth);
      expect(res.status).toBe(504);
      expect(JSON.parse(res.text)).toMatchObject({ id: 'slow-1', error: { code: -32603 } });
    } finally {
      await s.close();
      await new Promise<void>((resolve) => silent.close(() => resolve()));
    }
  });
});
