import { createServer, type Server as HttpServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { Server } from '@modelcontextprotocol/sdk/server/index.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import { CallToolRequestSchema, ListToolsRequestSchema } from '@modelcontextprotocol/sdk/types.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { McpRecord } from '../../../sidecar/src/pipeline/record.ts';
import type { RunningSidecar } from '../../../sidecar/src/server/sidecar.ts';
import {
  allow,
  collectRecords,
  config,
  deny,
  KEYS,
  post,
  type Recorded,
  sidecarFor,
} from '../../support/harness.ts';

// The sidecar's own time per message (portcullis_sidecar_own_duration_seconds) against a real SDK
// upstream whose `slow` tool first sends a log notification (so an SSE reply's headers and first
// event leave at once) and then works for PAUSE_MS: however the reply travels, the pause is the
// upstream's time, never the sidecar's. A denied call never reaches the upstream: all of its time is
// the sidecar's own.

const PAUSE_MS = 300;

function slowServer(): Server {
  const server = new Server(
    { name: 'slow-upstream', version: '1.0.0' },
    { capabilities: { tools: {}, logging: {} } },
  );
  server.setRequestHandler(ListToolsRequestSchema, async () => ({
    tools: ['slow', 'secret'].map((name) => ({ name, inputSchema: { type: 'object' as const } })),
  }));
  server.setRequestHandler(CallToolRequestSchema, async (_req, extra) => {
    await extra.sendNotification({
      method: 'notifications/message',
      params: { level: 'info', data: 'working' },
    });
    await sleep(PAUSE_MS);
    return { content: [{ type: 'text' as const, text: 'done' }] };
  });
  return server;
}

/** A stateless SDK upstream answering in SSE (headers and the notification first) or in JSON. */
async function startSlowUpstream(json: boolean): Promise<{ url: string; close(): Promise<void> }> {
  const http: HttpServer = createServer(async (req, res) => {
    const transport = new StreamableHTTPServerTransport({
      sessionIdGenerator: undefined,
      enableJsonResponse: json,
    });
    await slowServer().connect(transport);
    await transport.handleRequest(req, res);
  });
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(http.address() as AddressInfo).port}/mcp`,
    async close() {
      http.closeAllConnections();
      await new Promise<void>((resolve) => http.close(() => resolve()));
    },
  };
}

const call = (name: string) =>
  JSON.stringify({ jsonrpc: '2.0', id: 7, method: 'tools/call', params: { name, arguments: {} } });
const headers = { 'x-api-key': KEYS.alice, 'mcp-protocol-version': '2025-06-18' };

describe.each([
  ['an SSE reply', false],
  ['a JSON reply', true],
])('own time with %s', (_name, json) => {
  let upstream: Awaited<ReturnType<typeof startSlowUpstream>>;
  let sidecar: RunningSidecar;
  let recorded: Recorded;
  const last = (): McpRecord => recorded.records[recorded.records.length - 1] as McpRecord;

  beforeAll(async () => {
    upstream = await startSlowUpstream(json);
    recorded = collectRecords();
    sidecar = await sidecarFor(
      config({
        upstream: { transport: 'streamable-http', url: upstream.url },
        rules: [allow('all', { tools: ['*'] }), deny('no-secret', { tools: ['secret'] })],
      }),
      recorded,
    );
  });
  afterAll(async () => {
    await sidecar?.close();
    await upstream?.close();
  });

  it("leaves the upstream's work out: latency less own time covers the tool's pause", async () => {
    const reply = await post(sidecar.url, call('slow'), headers);
    expect(reply.status).toBe(200);
    expect(reply.text).toContain('done');
    const r = last();
    expect(r.outcome).toBe('allowed');
    expect(r.latencyMs).toBeGreaterThanOrEqual(PAUSE_MS);
    expect(r.latencyMs - r.ownLatencyMs).toBeGreaterThanOrEqual(PAUSE_MS);
    expect(r.ownLatencyMs).toBeGreaterThan(0);
  });

  it('counts all of a denied call as own time: nothing was waited for', async () => {
    const reply = await post(sidecar.url, call('secret'), headers);
    expect(reply.text).toContain('-32003');
    const r = last();
    expect(r.outcome).toBe('denied');
    expect(r.ownLatencyMs).toBe(r.latencyMs);
  });

  it('observes one sample per message in portcullis_sidecar_own_duration_seconds', async () => {
    const page = await fetch(`${sidecar.adminUrl}/metrics`).then((r) => r.text());
    const count = (outcome: string) =>
      page
        .split('\n')
        .find((l) =>
          l.startsWith(
            `portcullis_sidecar_own_duration_seconds_count{server="test-server",method="tools/call",outcome="${outcome}"}`,
          ),
        );
    expect(count('allowed')).toMatch(/ 1$/);
    expect(count('denied')).toMatch(/ 1$/);
    const sum = page
      .split('\n')
      .find((l) =>
        l.startsWith(
          'portcullis_sidecar_own_duration_seconds_sum{server="test-server",method="tools/call",outcome="allowed"}',
        ),
      );
    const allowed = recorded.records.find((r) => r.method === 'tools/call' && r.outcome === 'allowed');
    expect(Number(sum?.split(' ').pop())).toBeCloseTo((allowed?.ownLatencyMs ?? -1) / 1000, 9);
  });
});
