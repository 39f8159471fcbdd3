import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ReferenceServer, startReferenceServer } from '../../support/reference-server.ts';
import { rule, type SidecarProcess, startSidecarProcess } from '../../support/sidecar-process.ts';

// SEP-1699 stream resumption through the sidecar. The suite's server-sse-polling scenario declares
// protocol 2025-03-26 on its POST, for which the SDK server sends no priming event and never closes
// the stream, so it ends in warnings either way. Here an SDK client on 2025-11-25 calls
// test_reconnection: the server closes the POST stream before answering, the client comes back
// with GET + Last-Event-ID, and the answer is replayed from the server's event store.

const KEY = 'resumption-key-0123456789';

let upstream: ReferenceServer;
let sidecar: SidecarProcess;

beforeAll(async () => {
  upstream = await startReferenceServer();
  sidecar = await startSidecarProcess({
    upstream: { transport: 'streamable-http', url: upstream.url },
    allowAnonymous: false,
    apiKeys: [{ id: 'client', key: KEY, subject: 'client', groups: ['clients'] }],
    rules: [rule('clients-use-tools', { action: 'allow', subjects: [{ group: 'clients' }], tools: ['*'] })],
  });
});

afterAll(async () => {
  await sidecar?.close();
  await upstream?.close();
});

const targets: { name: string; url: () => string; headers: Record<string, string> }[] = [
  { name: 'directly', url: () => upstream.url, headers: {} },
  { name: 'through the sidecar', url: () => sidecar.url, headers: { 'x-api-key': KEY } },
];

describe('SSE stream closed mid-call and resumed with Last-Event-ID', () => {
  it.each(targets)('delivers the tool result after reconnecting ($name)', async ({ url, headers }) => {
    const resumptionTokens: string[] = [];
    const client = new Client({ name: 'resumption-test', version: '1' });
    await client.connect(
      new StreamableHTTPClientTransport(new URL(url()), {
        requestInit: { headers },
        reconnectionOptions: {
          initialReconnectionDelay: 50,
          maxReconnectionDelay: 500,
          reconnectionDelayGrowFactor: 1.5,
          maxRetries: 3,
        },
      }),
    );
    const before = upstream.resumptions();
    try {
      const result = await client.callTool({ name: 'test_reconnection', arguments: {} }, undefined, {
        timeout: 10_000,
        onresumptiontoken: (token) => void resumptionTokens.push(token),
      });
      expect(result.content).toEqual([{ type: 'text', text: 'Reconnection test completed' }]);
      // The priming event carried an id, so there was a point to resume from.
      expect(resumptionTokens.length).toBeGreaterThan(0);
      // The result came over a resumed stream: the client's Last-Event-ID reached the server.
      expect(upstream.resumptions()).toBe(before + 1);
    } finally {
      await client.close();
    }
  });
});
