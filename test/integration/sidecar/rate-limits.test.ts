import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { McpError } from '@modelcontextprotocol/sdk/types.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { validateConfig } from '../../../sidecar/src/config/load.ts';
import type { RunningSidecar } from '../../../sidecar/src/server/sidecar.ts';
import { type EchoUpstream, startEchoUpstream } from '../../support/echo-upstream.ts';
import {
  collectRecords,
  initializeBody,
  KEYS,
  MCP_HEADERS,
  messageOf,
  post,
  type Recorded,
  rawConfig,
  sidecarFor,
} from '../../support/harness.ts';

// Rate limits through a running sidecar, in front of an upstream that records every tools/call it
// receives (by its `n` argument): the calls past a limit get JSON-RPC -32006 with retryAfterMs and a
// Retry-After header, are audited and counted, and never reach the upstream; another caller, or
// another tool under a per-principal limit, is not affected.

let upstream: EchoUpstream;
let sidecar: RunningSidecar;
let records: Recorded;

beforeAll(async () => {
  upstream = await startEchoUpstream();
  const raw = {
    ...rawConfig({ upstream: { transport: 'streamable-http', url: upstream.url } }),
    rateLimits: [
      { name: 'per-caller', per: 'principal', requestsPerSecond: 0.01, burst: 3 },
      { name: 'beta-for-all', per: 'tool', tools: ['beta'], requestsPerSecond: 0.01, burst: 1 },
    ],
  };
  const checked = validateConfig(raw);
  if (!checked.ok) throw new Error(JSON.stringify(checked.issues));
  records = collectRecords();
  sidecar = await sidecarFor(checked.config, records);
});

afterAll(async () => {
  await sidecar?.close();
  await upstream?.close();
});

async function client(key: keyof typeof KEYS): Promise<Client> {
  const c = new Client({ name: 'rate-limits', version: '1' });
  await c.connect(
    new StreamableHTTPClientTransport(new URL(sidecar.url), {
      requestInit: { headers: { 'x-api-key': KEYS[key] } },
    }),
  );
  return c;
}

async function call(
  c: Client,
  tool: string,
  n: number,
): Promise<'ok' | { code: number; data: Record<string, unknown> }> {
  try {
    await c.callTool({ name: tool, arguments: { n } });
    return 'ok';
  } catch (err) {
    if (!(err instanceof McpError)) throw err;
    return { code: err.code, data: err.data as Record<string, unknown> };
  }
}

describe('rate limits', () => {
  it('refuses calls past the burst with a retry hint; they never reach the upstream', async () => {
    const alice = await client('alice');
    try {
      const results = [];
      for (let n = 1; n <= 5; n++) results.push(await call(alice, 'alpha', n));
      expect(results.slice(0, 3)).toEqual(['ok', 'ok', 'ok']);
      for (const r of results.slice(3)) {
        expect(r).toMatchObject({ code: -32006, data: { limit: 'per-caller' } });
        const wait = (r as unknown as { data: { retryAfterMs: number } }).data.retryAfterMs;
        expect(wait).toBeGreaterThan(90_000); // one token per 100 s
        expect(wait).toBeLessThanOrEqual(100_000);
      }
      // The upstream saw exactly the three calls that passed.
      expect(upstream.calls.filter((n) => n >= 1 && n <= 5)).toEqual([1, 2, 3]);
      const refused = records.records.filter((r) => r.errorCode === 'RATE_LIMITED');
      expect(refused).toHaveLength(2);
      expect(refused[0]).toMatchObject({ outcome: 'denied', rateLimit: { limit: 'per-caller' } });
      const metrics = await (await fetch(`${sidecar.adminUrl}/metrics`)).text();
      expect(metrics).toMatch(/^portcullis_sidecar_rate_limited_total\{[^}]*limit="per-caller"\} 2$/m);
    } finally {
      await alice.close();
    }
  });

  it('answers over HTTP with a Retry-After header in seconds', async () => {
    // bob's own bucket: spend it, then look at the raw HTTP answer of one more call.
    const bob = await client('bob');
    for (let n = 11; n <= 13; n++) expect(await call(bob, 'gamma', n)).toBe('ok');
    await bob.close();
    const init = await post(sidecar.url, initializeBody(), { ...MCP_HEADERS, 'x-api-key': KEYS.bob });
    const session = init.headers.get('mcp-session-id') ?? '';
    const res = await post(
      sidecar.url,
      JSON.stringify({
        jsonrpc: '2.0',
        id: 7,
        method: 'tools/call',
        params: { name: 'gamma', arguments: { n: 14 } },
      }),
      {
        ...MCP_HEADERS,
        'x-api-key': KEYS.bob,
        'mcp-session-id': session,
        'mcp-protocol-version': '2025-06-18',
      },
    );
    expect(res.status).toBe(200);
    expect(Number(res.headers.get('retry-after'))).toBeGreaterThanOrEqual(90);
    const body = messageOf(res.text) as {
      id: number;
      error: { code: number; data: { retryAfterMs: number } };
    };
    expect(body).toMatchObject({ id: 7, error: { code: -32006, data: { limit: 'per-caller' } } });
    expect(upstream.calls).not.toContain(14);
  });

  it('a per-tool limit holds across callers; a refused call costs the caller nothing', async () => {
    const mallory = await client('mallory');
    try {
      expect(await call(mallory, 'beta', 21)).toBe('ok'); // the tool's only token
      expect(await call(mallory, 'beta', 22)).toMatchObject({
        code: -32006,
        data: { limit: 'beta-for-all' },
      });
      // mallory's per-caller bucket lost one token only (for call 21): two more of another tool pass.
      expect(await call(mallory, 'delta', 23)).toBe('ok');
      expect(await call(mallory, 'delta', 24)).toBe('ok');
      expect(upstream.calls).not.toContain(22);
    } finally {
      await mallory.close();
    }
  });
});
