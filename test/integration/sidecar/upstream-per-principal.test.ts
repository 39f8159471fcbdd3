import { mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SidecarConfig } from '../../../sidecar/src/contract/config.ts';
import { type EverythingServer, startEverything } from '../../../sidecar/src/quickstart/everything.ts';
import type { RunningSidecar } from '../../../sidecar/src/server/sidecar.ts';
import { type EchoUpstream, startEchoUpstream } from '../../support/echo-upstream.ts';
import {
  collectRecords,
  config,
  initializeBody,
  KEYS,
  legacySseTransport,
  messageOf,
  post,
  type Recorded,
  sidecarFor,
} from '../../support/harness.ts';
import { type RecordingProxy, startRecordingProxy } from '../../support/recording-proxy.ts';

// perPrincipal: each caller reaches the upstream with their own credential from a mounted Secret
// file, the Portcullis credential never; a caller without a mapping is refused with a JSON-RPC
// error and nothing reaches the upstream; the file reloads without a restart (replaced the way
// Kubernetes updates a Secret volume: a new file renamed over the old).

let dir: string;
let upstream: EchoUpstream;
let sidecar: RunningSidecar;
let recorder: Recorded;

const mapping = (aliceKey: string) => `
credentials:
  - id: alice-prefect
    user: alice
    headers: { X-Prefect-Api-Key: ${aliceKey} }
  - id: sales-prefect
    group: sales
    headers: { X-Prefect-Api-Key: pnu_sales_team }
`;

function writeMapping(text: string): void {
  const next = join(dir, 'credentials.yaml.next');
  writeFileSync(next, text);
  renameSync(next, join(dir, 'credentials.yaml'));
}

async function callerClient(key: string): Promise<Client> {
  const client = new Client({ name: 'per-principal-test', version: '1' });
  await client.connect(
    new StreamableHTTPClientTransport(new URL(sidecar.url), {
      requestInit: { headers: { 'x-api-key': key } },
    }),
  );
  return client;
}

async function headersSeenUpstream(key: string): Promise<Record<string, string>> {
  const client = await callerClient(key);
  const result = (await client.callTool({ name: 'headers', arguments: {} })) as {
    content: { text: string }[];
  };
  await client.close();
  return JSON.parse(result.content[0]?.text ?? '{}') as Record<string, string>;
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'portcullis-per-principal-'));
  writeMapping(mapping('pnu_alice_1'));
  upstream = await startEchoUpstream();
  recorder = collectRecords();
  const auth = { mode: 'perPrincipal', file: join(dir, 'credentials.yaml') } as const;
  sidecar = await sidecarFor(
    config({
      upstream: { transport: 'streamable-http', url: upstream.url, auth } as SidecarConfig['upstream'],
    }),
    recorder,
  );
});
afterAll(async () => {
  await sidecar?.close();
  await upstream?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('per-principal upstream credentials', () => {
  it("each caller's requests carry that caller's own key, never the Portcullis credential", async () => {
    const alice = await headersSeenUpstream(KEYS.alice);
    const bob = await headersSeenUpstream(KEYS.bob); // bob is in group sales
    expect(alice['x-prefect-api-key']).toBe('pnu_alice_1');
    expect(bob['x-prefect-api-key']).toBe('pnu_sales_team');
    const everythingSeen = JSON.stringify(upstream.seen);
    for (const key of Object.values(KEYS)) expect(everythingSeen).not.toContain(key);
    expect(upstream.seen.every((h) => h['x-api-key'] === undefined && h.authorization === undefined)).toBe(
      true,
    );
    await expect
      .poll(() => recorder.records.filter((r) => r.method === 'tools/call').at(-1)?.upstreamCredential)
      .toEqual({
        mode: 'perPrincipal',
        id: 'sales-prefect',
      });
  });

  it('a caller without a mapping gets a JSON-RPC error with the request id; nothing reaches the upstream', async () => {
    const seen = upstream.seen.length;
    const res = await post(sidecar.url, initializeBody(7), { 'x-api-key': KEYS.mallory });
    expect(res.status).toBe(200);
    expect(messageOf(res.text)).toEqual({
      jsonrpc: '2.0',
      id: 7,
      error: { code: -32005, message: 'No upstream credential for this caller' },
    });
    expect(upstream.seen.length).toBe(seen);
    // The record is written when the answer has gone out.
    await expect
      .poll(() => recorder.records.find((r) => r.jsonrpcId === 7 && r.principal?.name === 'mallory'))
      .toMatchObject({
        outcome: 'failed',
        errorCode: 'UPSTREAM_CREDENTIAL_MISSING',
        reason: expect.stringContaining('no upstream credential is mapped for mallory'),
      });
  });

  it('a changed Secret file takes effect without a restart; a broken one keeps the last good mapping', async () => {
    writeMapping(mapping('pnu_alice_2'));
    await expect
      .poll(async () => (await headersSeenUpstream(KEYS.alice))['x-prefect-api-key'], {
        timeout: 10_000,
        interval: 250,
      })
      .toBe('pnu_alice_2');
    writeMapping('credentials: [{id: broken}]');
    await new Promise((r) => setTimeout(r, 2_500));
    expect((await headersSeenUpstream(KEYS.alice))['x-prefect-api-key']).toBe('pnu_alice_2');
  });
});

describe('per-principal credentials over the legacy HTTP+SSE transport', () => {
  let everything: EverythingServer;
  let front: RecordingProxy;
  let sse: RunningSidecar;
  beforeAll(async () => {
    writeMapping(mapping('pnu_alice_3')); // the reload test above left a broken file
    everything = await startEverything('sse');
    front = await startRecordingProxy(new URL(everything.url).origin);
    const auth = { mode: 'perPrincipal', file: join(dir, 'credentials.yaml') } as const;
    sse = await sidecarFor(
      config({ upstream: { transport: 'sse', url: `${front.url}/sse`, auth } as SidecarConfig['upstream'] }),
    );
  });
  afterAll(async () => {
    await sse?.close();
    await front?.close();
    await everything?.close();
  });

  it("the stream and every message carry the caller's own key", async () => {
    const client = new Client({ name: 'per-principal-sse', version: '1' });
    await client.connect(legacySseTransport(sse.url, KEYS.bob));
    await client.callTool({ name: 'echo', arguments: { message: 'hi' } });
    await client.close();
    const paths = new Set(front.seen.map((r) => r.path.split('?')[0]));
    expect(front.seen.length).toBeGreaterThanOrEqual(3); // the GET stream, initialize, the call
    expect(front.seen.every((r) => r.headers['x-prefect-api-key'] === 'pnu_sales_team')).toBe(true);
    expect(paths.size).toBeGreaterThanOrEqual(2); // /sse and the message endpoint
    expect(JSON.stringify(front.seen)).not.toContain(KEYS.bob);
  });
});
