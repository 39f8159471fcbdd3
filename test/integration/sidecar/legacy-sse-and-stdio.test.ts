import {
  Client as ClientV2,
  SSEClientTransport as SseV2,
  StreamableHTTPClientTransport as StreamableV2,
} from '@modelcontextprotocol/client';
import { Client as ClientV1 } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport as StreamableV1 } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type EverythingServer,
  everythingEntry,
  startEverything,
} from '../../../sidecar/src/quickstart/everything.ts';
import type { RunningSidecar } from '../../../sidecar/src/server/sidecar.ts';
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

// The legacy HTTP+SSE transport (everything server in sse mode) and a stdio upstream bridged to
// Streamable HTTP, each with SDK v1 and v2 clients: initialize, tools/list (filtered), tools/call.

const rules = [
  allow('engineers-tools', { subjects: [{ group: 'engineering' }], tools: ['echo', 'get-sum', 'get-env'] }),
  deny('no-env', { tools: ['get-env'] }),
];

type AnyClient = {
  connect(t: unknown): Promise<void>;
  listTools(): Promise<{ tools: { name: string }[] }>;
  callTool(p: { name: string; arguments: Record<string, unknown> }): Promise<unknown>;
  close(): Promise<void>;
};

async function exercise(client: AnyClient, transport: unknown) {
  await client.connect(transport);
  const { tools } = await client.listTools();
  expect(tools.map((t) => t.name).sort()).toEqual(['echo', 'get-sum']);
  const result = (await client.callTool({ name: 'get-sum', arguments: { a: 2, b: 3 } })) as {
    content: { text: string }[];
  };
  expect(result.content[0]?.text).toContain('5');
  const denied = await client.callTool({ name: 'get-env', arguments: {} }).then(
    () => undefined,
    (e: { code?: number; data?: { rule?: string } }) => e,
  );
  expect(denied?.code).toBe(-32003);
  expect(denied?.data?.rule).toBe('no-env');
  await client.close();
}

describe('legacy HTTP+SSE transport', () => {
  let everything: EverythingServer;
  let sidecar: RunningSidecar;
  let recorder: Recorded;
  beforeAll(async () => {
    everything = await startEverything('sse');
    recorder = collectRecords();
    sidecar = await sidecarFor(
      config({ upstream: { transport: 'sse', url: everything.url }, rules }),
      recorder,
    );
  });
  afterAll(async () => {
    await sidecar?.close();
    await everything?.close();
  });

  it('SDK v1 SSEClientTransport: initialize, filtered tools/list, allowed and denied calls', async () => {
    const transport = legacySseTransport(sidecar.url, KEYS.alice);
    await exercise(new ClientV1({ name: 'v1', version: '1' }) as unknown as AnyClient, transport);
  });

  it('SDK v2 SSEClientTransport: initialize, filtered tools/list, allowed and denied calls', async () => {
    const headers = { 'x-api-key': KEYS.alice };
    const transport = new SseV2(new URL(sidecar.url), {
      requestInit: { headers },
      eventSourceInit: {
        fetch: (u: string | URL, init?: RequestInit) =>
          fetch(u, { ...init, headers: { ...(init?.headers as object), ...headers } }),
      },
    } as ConstructorParameters<typeof SseV2>[1]);
    await exercise(new ClientV2({ name: 'v2', version: '1' }) as unknown as AnyClient, transport);
  });

  it('refuses the stream without credentials and records the refusal', async () => {
    const res = await fetch(sidecar.url, { headers: { accept: 'text/event-stream' } });
    expect(res.status).toBe(401);
    expect(res.headers.get('www-authenticate')).toMatch(/^Bearer resource_metadata=/);
    expect(recorder.records.some((r) => r.outcome === 'unauthenticated' && r.transport === 'sse')).toBe(true);
  });

  it('refuses a message to a session opened by another principal', async () => {
    const transport = legacySseTransport(sidecar.url, KEYS.alice);
    const client = new ClientV1({ name: 'v1', version: '1' });
    await client.connect(transport);
    const endpoint = (transport as unknown as { _endpoint: URL })._endpoint;
    const res = await fetch(endpoint, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-api-key': KEYS.mallory },
      body: JSON.stringify({ jsonrpc: '2.0', id: 9, method: 'tools/list' }),
    });
    expect(res.status).toBe(404);
    await client.close();
  });
});

describe('stdio upstream bridged to Streamable HTTP', () => {
  let sidecar: RunningSidecar;
  beforeAll(async () => {
    sidecar = await sidecarFor(
      config({
        upstream: { transport: 'stdio', command: process.execPath, args: [everythingEntry(), 'stdio'] },
        rules,
      }),
    );
  });
  afterAll(async () => {
    await sidecar?.close();
  });

  it('SDK v1 client', async () => {
    const transport = new StreamableV1(new URL(sidecar.url), {
      requestInit: { headers: { 'x-api-key': KEYS.alice } },
    });
    await exercise(new ClientV1({ name: 'v1', version: '1' }) as unknown as AnyClient, transport);
  });

  it('SDK v2 client', async () => {
    const transport = new StreamableV2(new URL(sidecar.url), {
      requestInit: { headers: { 'x-api-key': KEYS.alice } },
    });
    await exercise(new ClientV2({ name: 'v2', version: '1' }) as unknown as AnyClient, transport);
  });
});
