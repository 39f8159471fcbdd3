import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SidecarConfig } from '../../../sidecar/src/contract/config.ts';
import { freePort } from '../../../sidecar/src/quickstart/everything.ts';
import type { RunningSidecar } from '../../../sidecar/src/server/sidecar.ts';
import {
  ensurePrefectPython,
  type PrefectServer,
  startPrefectServer,
} from '../../fixtures/prefect/prefect.ts';
import { config, initializeBody, KEYS, messageOf, post, sidecarFor } from '../../support/harness.ts';
import { type RecordingProxy, startRecordingProxy } from '../../support/recording-proxy.ts';

// Per-principal credentials with Prefect's real MCP server (prefect-mcp over Streamable HTTP) in
// front of a real Prefect server. Recording proxies on both sides of prefect-mcp show what reaches
// it from the sidecar and what it sends on to the Prefect API: each caller's own key, as
// `Authorization: Bearer <key>`, and never a Portcullis credential. A caller without a mapping is
// refused before anything reaches prefect-mcp.

let dir: string;
let prefect: PrefectServer;
let prefectApi: RecordingProxy; // between prefect-mcp and the Prefect API
let mcpFront: RecordingProxy; // between the sidecar and prefect-mcp
let prefectMcp: ChildProcess;
let sidecar: RunningSidecar;

const ALICE_KEY = 'pnu_alice_0123456789';
const BOB_KEY = 'pnu_bob_9876543210';

async function waitForPort(port: number, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const up = await fetch(`http://127.0.0.1:${port}/mcp`).then(
      () => true,
      () => false,
    );
    if (up) return;
    if (Date.now() > deadline || prefectMcp.exitCode !== null) throw new Error('prefect-mcp did not start');
    await new Promise((r) => setTimeout(r, 250));
  }
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'portcullis-prefect-keys-'));
  const python = await ensurePrefectPython();
  prefect = await startPrefectServer(python);
  prefectApi = await startRecordingProxy(prefect.apiUrl);
  const port = await freePort();
  prefectMcp = spawn(
    python,
    [
      '-c',
      `from prefect_mcp_server.server import mcp; mcp.run(transport='http', host='127.0.0.1', port=${port})`,
    ],
    {
      cwd: dir,
      // No Prefect credentials of its own: what it uses comes from the headers the sidecar sends.
      env: {
        PATH: process.env.PATH ?? '',
        HOME: dir,
        PREFECT_HOME: dir,
        PREFECT_API_URL: 'http://127.0.0.1:9/api',
      },
      stdio: ['ignore', 'ignore', 'pipe'],
      detached: true,
    },
  );
  await waitForPort(port, 60_000);
  mcpFront = await startRecordingProxy(`http://127.0.0.1:${port}`);
  const apiUrl = `${prefectApi.url}/api`;
  writeFileSync(
    join(dir, 'credentials.yaml'),
    JSON.stringify({
      credentials: [
        {
          id: 'alice-prefect',
          user: 'alice',
          headers: { 'X-Prefect-Api-Key': ALICE_KEY, 'X-Prefect-Api-Url': apiUrl },
        },
        {
          id: 'bob-prefect',
          user: 'bob',
          headers: { 'X-Prefect-Api-Key': BOB_KEY, 'X-Prefect-Api-Url': apiUrl },
        },
      ],
    }),
  );
  const auth = { mode: 'perPrincipal', file: join(dir, 'credentials.yaml') } as const;
  sidecar = await sidecarFor(
    config({
      upstream: {
        transport: 'streamable-http',
        url: `${mcpFront.url}/mcp`,
        auth,
      } as SidecarConfig['upstream'],
    }),
  );
}, 240_000);

afterAll(async () => {
  await sidecar?.close();
  await mcpFront?.close();
  if (prefectMcp?.pid !== undefined && prefectMcp.exitCode === null) {
    const exited = new Promise((r) => prefectMcp.once('exit', r));
    process.kill(-prefectMcp.pid, 'SIGTERM');
    await exited;
  }
  await prefectApi?.close();
  await prefect?.stop();
  rmSync(dir, { recursive: true, force: true });
});

async function getFlowsAs(key: string): Promise<void> {
  const client = new Client({ name: 'prefect-keys-test', version: '1' });
  await client.connect(
    new StreamableHTTPClientTransport(new URL(sidecar.url), {
      requestInit: { headers: { 'x-api-key': key } },
    }),
  );
  const result = await client.callTool({ name: 'get_flows', arguments: {} });
  await client.close();
  expect(result.isError ?? false).toBe(false);
}

describe("Prefect's MCP server with per-user keys", () => {
  it('each caller reaches the Prefect API with their own key', async () => {
    const before = prefectApi.seen.length;
    await getFlowsAs(KEYS.alice);
    const alice = prefectApi.seen.slice(before);
    await getFlowsAs(KEYS.bob);
    const bob = prefectApi.seen.slice(before + alice.length);
    expect(alice.length).toBeGreaterThan(0);
    expect(bob.length).toBeGreaterThan(0);
    expect(new Set(alice.map((r) => r.headers.authorization))).toEqual(new Set([`Bearer ${ALICE_KEY}`]));
    expect(new Set(bob.map((r) => r.headers.authorization))).toEqual(new Set([`Bearer ${BOB_KEY}`]));
  });

  it('no Portcullis credential reaches prefect-mcp or the Prefect API', () => {
    const everything = JSON.stringify([...mcpFront.seen, ...prefectApi.seen]);
    for (const key of Object.values(KEYS)) expect(everything).not.toContain(key);
    expect(
      mcpFront.seen.every(
        (r) => r.headers['x-api-key'] === undefined && r.headers.authorization === undefined,
      ),
    ).toBe(true);
  });

  it('a caller without a mapping is refused before anything reaches prefect-mcp', async () => {
    const before = mcpFront.seen.length;
    const res = await post(sidecar.url, initializeBody(9), { 'x-api-key': KEYS.mallory });
    expect(messageOf(res.text)).toMatchObject({ id: 9, error: { code: -32005 } });
    expect(mcpFront.seen.length).toBe(before);
  });
});
