import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SidecarConfig } from '../../../sidecar/src/contract/config.ts';
import type { RunningSidecar } from '../../../sidecar/src/server/sidecar.ts';
import { generatePki, type Pki } from '../../cluster/pki.ts';
import { type EchoUpstream, startEchoUpstream } from '../../support/echo-upstream.ts';
import {
  allow,
  collectRecords,
  config,
  initializeBody,
  KEYS,
  messageOf,
  post,
  type Recorded,
  sidecarFor,
} from '../../support/harness.ts';

// An external server: a real MCP server on loopback over TLS with a test CA, standing in for a
// remote one, governed as a hosted one is: policy, audit records and metrics. The upstream's
// certificate must chain to the configured CA and carry the configured name.

let dir: string;
let pki: Pki;
let upstream: EchoUpstream;
let sidecar: RunningSidecar;
let recorder: Recorded;

const withTls = (tls: NonNullable<SidecarConfig['upstream']['tls']> | undefined) =>
  config({
    upstream: {
      transport: 'streamable-http',
      url: upstream.url,
      ...(tls ? { tls } : {}),
    } as SidecarConfig['upstream'],
    rules: [allow('alpha-only', { tools: ['alpha'] })],
  });

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'portcullis-external-'));
  pki = await generatePki(dir);
  upstream = await startEchoUpstream({
    tls: { cert: readFileSync(pki.servingCert, 'utf8'), key: readFileSync(pki.servingKey, 'utf8') },
  });
  recorder = collectRecords();
  sidecar = await sidecarFor(withTls({ caFile: pki.caCert, serverName: 'localhost' }), recorder);
}, 60_000);
afterAll(async () => {
  await sidecar?.close();
  await upstream?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('an external MCP server over TLS', () => {
  it('is governed like a hosted one: allowed call through, denied call refused, both recorded and counted', async () => {
    expect(upstream.url).toMatch(/^https:/);
    const client = new Client({ name: 'external-test', version: '1' });
    await client.connect(
      new StreamableHTTPClientTransport(new URL(sidecar.url), {
        requestInit: { headers: { 'x-api-key': KEYS.alice } },
      }),
    );
    const tools = await client.listTools();
    expect(tools.tools.map((t) => t.name)).toEqual(['alpha']);
    expect(await client.callTool({ name: 'alpha', arguments: { n: 1 } })).toMatchObject({
      content: [{ text: 'called alpha' }],
    });
    await expect(client.callTool({ name: 'beta', arguments: { n: 2 } })).rejects.toThrow(
      /Forbidden by policy/,
    );
    await client.close();
    expect(upstream.calls).toEqual([1]);
    await expect
      .poll(() =>
        recorder.records.filter((r) => r.method === 'tools/call').map((r) => [r.target?.tool, r.outcome]),
      )
      .toEqual([
        ['alpha', 'allowed'],
        ['beta', 'denied'],
      ]);
    const metrics = await (await fetch(`${sidecar.adminUrl}/metrics`)).text();
    expect(metrics).toMatch(
      /portcullis_sidecar_requests_total\{[^}]*method="tools\/call",tool="alpha",outcome="allowed"\} 1/,
    );
    expect(metrics).toMatch(/portcullis_sidecar_decisions_total\{[^}]*tool="beta",decision="deny"/);
  });

  it.each([
    ['without the CA, the test certificate is not trusted', undefined],
    [
      'with the CA but another server name, the certificate does not match',
      { caFile: '', serverName: 'mcp.vendor.example' },
    ],
  ])('%s: the caller gets a JSON-RPC error with the request id', async (_name, tls) => {
    const s = await sidecarFor(withTls(tls && { ...tls, caFile: pki.caCert }));
    try {
      const res = await post(s.url, initializeBody(5), { 'x-api-key': KEYS.alice });
      expect(res.status).toBe(502);
      expect(messageOf(res.text)).toMatchObject({ id: 5, error: { code: -32603 } });
    } finally {
      await s.close();
    }
  });
});
