import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SidecarConfig } from '../../../sidecar/src/contract/index.ts';
import { freePort } from '../../../sidecar/src/quickstart/everything.ts';
import { probeUpstream } from '../../../sidecar/src/upstream/probe.ts';
import { generatePki, type Pki } from '../../cluster/pki.ts';
import { type EchoUpstream, startEchoUpstream } from '../../support/echo-upstream.ts';
import { type ExpressUpstream, startExpressUpstream } from '../../support/express-upstream.ts';
import { allow, config, sidecarFor } from '../../support/harness.ts';

// The gateway's probe of its upstream against real MCP servers: over TLS with a test CA (Streamable
// HTTP) and over the legacy HTTP+SSE transport, it learns serverInfo and the agreed protocol
// revision; a CA that did not sign the upstream is reported as a TLS trust failure naming the field
// to fix; a running sidecar with upstream.probe exposes the result as portcullis_sidecar_upstream_up.

let dir: string;
let pki: Pki;
let otherPki: Pki;
let tlsUpstream: EchoUpstream;
let express: ExpressUpstream;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'portcullis-probe-'));
  pki = await generatePki(dir);
  otherPki = await generatePki(mkdtempSync(join(dir, 'other-')));
  tlsUpstream = await startEchoUpstream({
    tls: { cert: readFileSync(pki.servingCert, 'utf8'), key: readFileSync(pki.servingKey, 'utf8') },
  });
  express = await startExpressUpstream();
}, 60_000);
afterAll(async () => {
  await tlsUpstream?.close();
  await express?.close();
  rmSync(dir, { recursive: true, force: true });
});

const probe = (url: string, transport: 'streamable-http' | 'sse', caFile?: string) =>
  probeUpstream({
    url,
    transport,
    ...(caFile ? { caFile, serverName: 'localhost' } : {}),
    headers: {},
    timeoutMs: 5_000,
  });

describe('probeUpstream', () => {
  it('learns serverInfo and the protocol revision over TLS with the configured CA', async () => {
    expect(await probe(tlsUpstream.url, 'streamable-http', pki.caCert)).toMatchObject({
      reachable: true,
      serverInfo: { name: 'echo-upstream', version: '1.0.0' },
      protocolVersion: expect.stringMatching(/^\d{4}-\d{2}-\d{2}$/),
    });
  });

  it('speaks the legacy HTTP+SSE transport', async () => {
    const r = await probe(express.sseUrl, 'sse');
    expect(r.reachable).toBe(true);
    expect(r.serverInfo?.name).toBeTruthy();
    expect(r.protocolVersion).toMatch(/^\d{4}-\d{2}-\d{2}$/);
  });

  it('reports a CA that did not sign the upstream as untrusted, pointing at the CA bundle', async () => {
    const r = await probe(tlsUpstream.url, 'streamable-http', otherPki.caCert);
    expect(r.reachable).toBe(false);
    expect(r.message).toMatch(
      /^TLS: the upstream certificate is not trusted .*check spec\.external\.tls\.caBundle$/,
    );
  });

  it('reports a refused connection', async () => {
    // A port nothing listens on (fetch refuses well-known ones like 9 before connecting).
    const r = await probe(`http://127.0.0.1:${await freePort()}/mcp`, 'streamable-http');
    expect(r).toMatchObject({ reachable: false, message: expect.stringContaining('ECONNREFUSED') });
  });
});

describe('upstream.probe in a running sidecar', () => {
  it('sets portcullis_sidecar_upstream_up from each probe', async () => {
    const withProbe = (caFile: string) =>
      config({
        upstream: {
          transport: 'streamable-http',
          url: tlsUpstream.url,
          tls: { caFile, serverName: 'localhost' },
          probe: { intervalMs: 1_000, timeoutMs: 5_000 },
        } as SidecarConfig['upstream'],
        rules: [allow('all', { tools: ['*'] })],
      });
    const up = async (s: { adminUrl: string }) =>
      /portcullis_sidecar_upstream_up\{server="[^"]+"\} (\d)/.exec(
        await (await fetch(`${s.adminUrl}/metrics`)).text(),
      )?.[1];
    for (const [caFile, want] of [
      [pki.caCert, '1'],
      [otherPki.caCert, '0'],
    ] as const) {
      const s = await sidecarFor(withProbe(caFile));
      try {
        await expect.poll(() => up(s), { timeout: 10_000 }).toBe(want);
      } finally {
        await s.close();
      }
    }
  });
});
