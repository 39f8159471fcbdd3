import {
  Client as ClientV2,
  StreamableHTTPClientTransport as StreamableV2,
} from '@modelcontextprotocol/client';
import { Client as ClientV1 } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport as StreamableV1 } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type EverythingServer, startEverything } from '../../../sidecar/src/quickstart/everything.ts';
import type { RunningSidecar } from '../../../sidecar/src/server/sidecar.ts';
import {
  allow,
  collectRecords,
  config,
  deny,
  KEYS,
  type Recorded,
  sidecarFor,
} from '../../support/harness.ts';

// SDK v1 and v2 clients through the sidecar to the real everything server (streamableHttp).

let everything: EverythingServer;
let sidecar: RunningSidecar;
let recorder: Recorded;

beforeAll(async () => {
  everything = await startEverything('streamableHttp');
  recorder = collectRecords();
  sidecar = await sidecarFor(
    config({
      upstream: { transport: 'streamable-http', url: everything.url },
      rules: [
        allow('engineers-tools', {
          subjects: [{ group: 'engineering' }],
          tools: ['echo', 'get-sum', 'get-env'],
        }),
        allow('sales-echo', { subjects: [{ group: 'sales' }], tools: ['echo'] }),
        allow('engineers-prompts', { subjects: [{ group: 'engineering' }], prompts: ['completable-prompt'] }),
        deny('no-env', { tools: ['get-env'] }),
      ],
    }),
    recorder,
  );
});

afterAll(async () => {
  await sidecar?.close();
  await everything?.close();
});

type AnyClient = {
  connect(t: unknown): Promise<void>;
  listTools(): Promise<{ tools: { name: string }[] }>;
  callTool(p: { name: string; arguments: Record<string, unknown> }): Promise<unknown>;
  close(): Promise<void>;
};

const clients: { name: string; make(url: string, key: string): { client: AnyClient; transport: unknown } }[] =
  [
    {
      name: 'SDK v1',
      make: (url, key) => ({
        client: new ClientV1({ name: 'v1', version: '1' }) as unknown as AnyClient,
        transport: new StreamableV1(new URL(url), { requestInit: { headers: { 'x-api-key': key } } }),
      }),
    },
    {
      name: 'SDK v2',
      make: (url, key) => ({
        client: new ClientV2({ name: 'v2', version: '1' }) as unknown as AnyClient,
        transport: new StreamableV2(new URL(url), { requestInit: { headers: { 'x-api-key': key } } }),
      }),
    },
  ];

describe.each(clients)('$name through the sidecar (streamable HTTP)', ({ make }) => {
  it('initializes, lists only the tools the caller may use, and calls an allowed tool', async () => {
    const { client, transport } = make(sidecar.url, KEYS.alice);
    await client.connect(transport);
    const { tools } = await client.listTools();
    expect(tools.map((t) => t.name).sort()).toEqual(['echo', 'get-sum']);
    const result = (await client.callTool({ name: 'echo', arguments: { message: 'through the door' } })) as {
      content: { text: string }[];
    };
    expect(result.content[0]?.text).toBe('Echo: through the door');
    await client.close();
  });

  it('gets a JSON-RPC error naming the rule for a denied tool (deny wins over allow)', async () => {
    const { client, transport } = make(sidecar.url, KEYS.alice);
    await client.connect(transport);
    const error = await client.callTool({ name: 'get-env', arguments: {} }).then(
      () => undefined,
      (e: { code?: number; data?: { reason?: string; rule?: string } }) => e,
    );
    expect(error?.code).toBe(-32003);
    expect(error?.data?.rule).toBe('no-env');
    expect(error?.data?.reason).toContain('no-env');
    await client.close();
  });

  it('default-denies a tool no rule allows for this caller', async () => {
    const { client, transport } = make(sidecar.url, KEYS.bob);
    await client.connect(transport);
    const { tools } = await client.listTools();
    expect(tools.map((t) => t.name)).toEqual(['echo']);
    const error = await client.callTool({ name: 'get-sum', arguments: { a: 1, b: 2 } }).then(
      () => undefined,
      (e: { code?: number; data?: { reason?: string } }) => e,
    );
    expect(error?.code).toBe(-32003);
    expect(error?.data?.reason).toMatch(/no rule allows/);
    await client.close();
  });
});

describe('records', () => {
  it('records one event per message with principal, decision and outcome', () => {
    const denied = recorder.records.filter((r) => r.outcome === 'denied');
    expect(denied.length).toBeGreaterThanOrEqual(4);
    for (const r of denied) {
      expect(r.method).toBe('tools/call');
      expect(r.principal?.subject).toMatch(/alice|bob/);
      expect(r.decision?.effect).toBe('deny');
    }
    const echo = recorder.records.find((r) => r.target?.tool === 'echo' && r.outcome === 'allowed');
    expect(echo?.result?.isError).toBe(false);
    expect(echo?.session).toBeTruthy();
  });
});

describe('completion/complete', () => {
  // Completions are decided on the prompt (or resource) their `ref` names.
  const complete = async (key: string) => {
    const client = new ClientV1({ name: 'v1', version: '1' });
    await client.connect(
      new StreamableV1(new URL(sidecar.url), { requestInit: { headers: { 'x-api-key': key } } }),
    );
    try {
      return await client.complete({
        ref: { type: 'ref/prompt', name: 'completable-prompt' },
        argument: { name: 'department', value: 'Eng' },
      });
    } finally {
      await client.close();
    }
  };

  it('completes an argument of a prompt the caller may use', async () => {
    expect((await complete(KEYS.alice)).completion.values).toEqual(['Engineering']);
  });

  it('refuses a completion for a prompt the caller may not use, decided on the prompt it names', async () => {
    await expect(complete(KEYS.bob)).rejects.toThrow(/-32003: Forbidden by policy/);
  });
});
