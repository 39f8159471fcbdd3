import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { SSEClientTransport } from '@modelcontextprotocol/sdk/client/sse.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type EverythingServer, startEverything } from '../../../sidecar/src/quickstart/everything.ts';
import type { RunningSidecar } from '../../../sidecar/src/server/sidecar.ts';
import { config, KEYS, sidecarFor } from '../../support/harness.ts';

// portcullis_sidecar_active_sessions as Prometheus reads it from the admin port, while real SDK
// clients open and end sessions through the sidecar: Streamable HTTP (initialize opens, DELETE ends)
// and legacy HTTP+SSE (the GET stream is the session; closing it ends the session).

async function activeSessions(sidecar: RunningSidecar): Promise<number | undefined> {
  const page = await fetch(`${sidecar.adminUrl}/metrics`).then((r) => r.text());
  const line = page.split('\n').find((l) => l.startsWith('portcullis_sidecar_active_sessions{'));
  return line === undefined ? undefined : Number(line.slice(line.lastIndexOf(' ') + 1));
}

/** The gauge once it reaches `want` (a closed SSE stream is noticed by the sidecar a moment later). */
async function eventually(sidecar: RunningSidecar, want: number): Promise<number | undefined> {
  let seen: number | undefined;
  for (let i = 0; i < 100; i++) {
    seen = await activeSessions(sidecar);
    if (seen === want) return seen;
    await new Promise((r) => setTimeout(r, 50));
  }
  return seen;
}

const headers = { 'x-api-key': KEYS.alice };

describe('active sessions over Streamable HTTP', () => {
  let everything: EverythingServer;
  let sidecar: RunningSidecar;
  beforeAll(async () => {
    everything = await startEverything('streamableHttp');
    sidecar = await sidecarFor(config({ upstream: { transport: 'streamable-http', url: everything.url } }));
  });
  afterAll(async () => {
    await sidecar?.close();
    await everything?.close();
  });

  it('starts at 0, counts each initialized session, and counts down on DELETE', async () => {
    expect(await activeSessions(sidecar)).toBe(0);
    const open = async () => {
      const transport = new StreamableHTTPClientTransport(new URL(sidecar.url), { requestInit: { headers } });
      const client = new Client({ name: 'sessions-test', version: '1' });
      await client.connect(transport);
      await client.listTools();
      return { client, transport };
    };
    const a = await open();
    expect(await activeSessions(sidecar)).toBe(1);
    const b = await open();
    expect(await activeSessions(sidecar)).toBe(2);
    await a.transport.terminateSession();
    await a.client.close();
    expect(await activeSessions(sidecar)).toBe(1);
    await b.transport.terminateSession();
    await b.client.close();
    expect(await activeSessions(sidecar)).toBe(0);
  });

  it('does not count a session whose initialize was refused', async () => {
    const transport = new StreamableHTTPClientTransport(new URL(sidecar.url), {
      requestInit: { headers: { 'x-api-key': 'not-a-key-0123456789' } },
    });
    const client = new Client({ name: 'sessions-test', version: '1' });
    await expect(client.connect(transport)).rejects.toThrow();
    expect(await activeSessions(sidecar)).toBe(0);
  });
});

describe('active sessions over legacy HTTP+SSE', () => {
  let everything: EverythingServer;
  let sidecar: RunningSidecar;
  beforeAll(async () => {
    everything = await startEverything('sse');
    sidecar = await sidecarFor(config({ upstream: { transport: 'sse', url: everything.url } }));
  });
  afterAll(async () => {
    await sidecar?.close();
    await everything?.close();
  });

  it('counts an open event stream as a session and forgets it when the stream closes', async () => {
    expect(await activeSessions(sidecar)).toBe(0);
    const clients = [];
    for (let i = 0; i < 2; i++) {
      const client = new Client({ name: 'sessions-test', version: '1' });
      await client.connect(
        new SSEClientTransport(new URL(sidecar.url), {
          requestInit: { headers },
          eventSourceInit: { fetch: withKey },
        }),
      );
      await client.listTools();
      clients.push(client);
    }
    expect(await activeSessions(sidecar)).toBe(2);
    await clients[0]?.close();
    expect(await eventually(sidecar, 1)).toBe(1);
    await clients[1]?.close();
    expect(await eventually(sidecar, 0)).toBe(0);
  });
});

/** The SSE client's GET goes through eventsource, which takes its own fetch for headers. */
function withKey(url: string | URL, init?: RequestInit): Promise<Response> {
  return fetch(url, { ...init, headers: { ...(init?.headers as Record<string, string>), ...headers } });
}
