import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { validateConfig } from '../../../sidecar/src/config/load.ts';
import type { RunningSidecar } from '../../../sidecar/src/server/sidecar.ts';
import {
  allow,
  collectRecords,
  deny,
  initializeBody,
  KEYS,
  post,
  type Recorded,
  rawConfig,
  sidecarFor,
} from '../../support/harness.ts';

// Answers are matched to requests by id. Two requests under one id in a batch would let the
// tools/list answer be filtered as the prompts/list one: the policy-denied tool and the tool held by
// pinning would reach the caller. The sidecar refuses such a batch, and filters any answer by the
// shape of its result too, so a server that answers one request with another's result is filtered.

const tools = [
  { name: 'add', description: 'Adds.', inputSchema: { type: 'object' } },
  { name: 'secret', description: 'internal only', inputSchema: { type: 'object' } },
];

// A plain JSON-RPC server that answers each element of a batch, as most non-SDK servers do; with
// `crossed`, it answers prompts/list with the tools result (a server that mixes its answers up).
let crossed = false;
const received: unknown[] = [];
function answer(m: { id?: unknown; method?: string }) {
  if (m.id === undefined) return undefined;
  const result =
    m.method === 'initialize'
      ? {
          protocolVersion: '2025-03-26',
          capabilities: { tools: {}, prompts: {} },
          serverInfo: { name: 'plain', version: '1' },
        }
      : m.method === 'tools/list' || (crossed && m.method === 'prompts/list')
        ? { tools }
        : m.method === 'prompts/list'
          ? { prompts: [] }
          : {};
  return { jsonrpc: '2.0', id: m.id, result };
}

let upstream: Server;
let sidecar: RunningSidecar;
let recorder: Recorded;
let session: Record<string, string>;

beforeAll(async () => {
  upstream = createServer((req, res) => {
    let body = '';
    req.on('data', (c) => {
      body += c;
    });
    req.on('end', () => {
      if (req.method !== 'POST') return void res.writeHead(405).end();
      const msg = JSON.parse(body);
      received.push(msg);
      const out = Array.isArray(msg) ? msg.map(answer).filter(Boolean) : answer(msg);
      if (out === undefined || (Array.isArray(out) && out.length === 0)) return void res.writeHead(202).end();
      res
        .writeHead(200, { 'content-type': 'application/json', 'mcp-session-id': 's1' })
        .end(JSON.stringify(out));
    });
  });
  await new Promise<void>((r) => upstream.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${(upstream.address() as AddressInfo).port}/mcp`;
  // Enforce with no approved pins: every tool is held; 'secret' is also denied by the rules.
  const checked = validateConfig({
    ...rawConfig({
      upstream: { transport: 'streamable-http', url },
      rules: [deny('no-secret', { tools: ['secret'] }), allow('all', { tools: ['*'], prompts: ['*'] })],
    }),
    pinning: { mode: 'Enforce' },
  });
  if (!checked.ok) throw new Error(JSON.stringify(checked.issues));
  recorder = collectRecords();
  sidecar = await sidecarFor(checked.config, recorder);
  const headers = { 'x-api-key': KEYS.alice, 'mcp-protocol-version': '2025-03-26' };
  const init = await post(sidecar.url, initializeBody(1, '2025-03-26'), headers);
  session = { ...headers, 'mcp-session-id': init.headers.get('mcp-session-id') ?? '' };
});

afterAll(async () => {
  await sidecar?.close();
  upstream?.close();
});

const request = (id: number, method: string) => ({ jsonrpc: '2.0', id, method });

describe('request ids in a batch', () => {
  it('refuses two requests under one id with -32600, audited, and forwards nothing', async () => {
    received.length = 0;
    const before = recorder.records.length;
    const res = await post(
      sidecar.url,
      JSON.stringify([request(3, 'tools/list'), request(3, 'prompts/list')]),
      session,
    );
    expect(res.status).toBe(400);
    expect(JSON.parse(res.text)).toMatchObject({ jsonrpc: '2.0', id: null, error: { code: -32600 } });
    expect(res.text).not.toContain('secret');
    expect(received).toEqual([]);
    const refused = recorder.records.slice(before);
    expect(refused).toHaveLength(1);
    expect(refused[0]).toMatchObject({ outcome: 'failed', errorCode: 'INVALID_REQUEST' });
    expect(refused[0]?.reason).toMatch(/id 3 is the id of element 0/);
  });

  it('filters an answer by the shape of its result, whatever request it answers', async () => {
    crossed = true;
    try {
      const res = await post(sidecar.url, JSON.stringify([request(4, 'prompts/list')]), session);
      expect(res.status).toBe(200);
      // Held (Enforce, unapproved) and policy-denied tools are both gone from the tools result.
      expect(JSON.parse(res.text)).toEqual([{ jsonrpc: '2.0', id: 4, result: { tools: [] } }]);
    } finally {
      crossed = false;
    }
  });
});
