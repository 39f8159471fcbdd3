import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { createRemoteJWKSet, jwtVerify } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SidecarConfig } from '../../../sidecar/src/contract/config.ts';
import { freePort } from '../../../sidecar/src/quickstart/everything.ts';
import type { RunningSidecar } from '../../../sidecar/src/server/sidecar.ts';
import { type EchoUpstream, startEchoUpstream } from '../../support/echo-upstream.ts';
import {
  collectRecords,
  config,
  initializeBody,
  messageOf,
  post,
  type Recorded,
  sidecarFor,
} from '../../support/harness.ts';
import { startOidcProvider, type TestOidcProvider } from '../../support/oidc-provider.ts';

// RFC 8693 token exchange with a real OpenID provider: each caller's upstream request carries a
// token the provider issued for the upstream (issuer, audience = the upstream, subject = the
// caller), never the caller's own; the exchange is cached per caller token; a revoked or expired
// subject token, or a dead token endpoint, gets the caller a JSON-RPC error with its request id
// and nothing reaches the upstream.

const UPSTREAM_AUDIENCE = 'https://upstream.example/mcp';
const alice = { clientId: 'alice', clientSecret: randomBytes(16).toString('hex'), groups: ['engineering'] };
const bob = { clientId: 'bob', clientSecret: randomBytes(16).toString('hex'), groups: ['engineering'] };
const gateway = {
  clientId: 'portcullis-gateway',
  clientSecret: randomBytes(16).toString('hex'),
  tokenExchange: true,
};

let idp: TestOidcProvider;
let upstream: EchoUpstream;
let sidecar: RunningSidecar;
let recorder: Recorded;
let canonicalUri: string;
let dir: string;

async function exchangeSidecar(
  tokenEndpoint: string,
  rec?: Recorded,
  other?: NonNullable<SidecarConfig['upstream']['auth']>,
): Promise<RunningSidecar> {
  const port = await freePort();
  canonicalUri = `http://127.0.0.1:${port}/mcp`;
  const auth: NonNullable<SidecarConfig['upstream']['auth']> = other ?? {
    mode: 'tokenExchange',
    tokenEndpoint,
    issuer: idp.issuer,
    clientId: gateway.clientId,
    clientSecretFile: join(dir, 'client-secret'),
    audience: UPSTREAM_AUDIENCE,
    header: 'authorization',
    refreshBeforeExpirySeconds: 30,
    requestedTokenType: 'urn:ietf:params:oauth:token-type:access_token',
    maxCachedPrincipals: 100,
    resilience: { timeoutMs: 1000, retries: 1, backoffMs: 10, breakerFailures: 2, breakerCooldownMs: 60_000 },
  };
  return sidecarFor(
    config({
      canonicalUri,
      upstream: { transport: 'streamable-http', url: upstream.url, auth } as SidecarConfig['upstream'],
      authentication: { apiKeys: [], oidc: [{ issuer: idp.issuer }] as never },
    }),
    rec,
    { portOverride: port },
  );
}

async function callerClient(token: string): Promise<Client> {
  const client = new Client({ name: 'exchange-test', version: '1' });
  await client.connect(
    new StreamableHTTPClientTransport(new URL(sidecar.url), {
      requestInit: { headers: { authorization: `Bearer ${token}` } },
    }),
  );
  return client;
}

/** The Authorization header the upstream received for a `headers` tool call. */
async function upstreamAuthorization(client: Client): Promise<string> {
  const result = (await client.callTool({ name: 'headers', arguments: {} })) as {
    content: { text: string }[];
  };
  const headers = JSON.parse(result.content[0]?.text ?? '{}') as Record<string, string>;
  return headers.authorization ?? '';
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'portcullis-exchange-'));
  writeFileSync(join(dir, 'client-secret'), `${gateway.clientSecret}\n`);
  idp = await startOidcProvider({ clients: [alice, bob, gateway] });
  upstream = await startEchoUpstream();
  recorder = collectRecords();
  sidecar = await exchangeSidecar(`${idp.issuer}/token`, recorder);
});
afterAll(async () => {
  await sidecar?.close();
  await upstream?.close();
  await idp?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('token exchange (RFC 8693)', () => {
  it("each caller's upstream request carries a token issued for the upstream, with the caller as subject", async () => {
    const jwks = createRemoteJWKSet(new URL(`${idp.issuer}/jwks`));
    const callerTokens: string[] = [];
    for (const caller of [alice, bob]) {
      const token = await idp.token({ resource: canonicalUri, clientId: caller.clientId });
      callerTokens.push(token);
      const client = await callerClient(token);
      const sent = await upstreamAuthorization(client);
      await client.close();
      expect(sent).toMatch(/^Bearer /);
      const exchanged = sent.slice('Bearer '.length);
      expect(exchanged).not.toBe(token);
      const { payload } = await jwtVerify(exchanged, jwks, {
        issuer: idp.issuer,
        audience: UPSTREAM_AUDIENCE,
      });
      expect(payload.sub).toBe(caller.clientId);
      expect(payload.act).toEqual({ sub: gateway.clientId });
    }
    // No request the upstream saw carried a caller's token.
    const everythingSeen = JSON.stringify(upstream.seen);
    for (const token of callerTokens) expect(everythingSeen).not.toContain(token);
    await expect
      .poll(() => recorder.records.filter((r) => r.method === 'tools/call').at(-1)?.upstreamCredential)
      .toEqual({
        mode: 'tokenExchange',
        id: `token-exchange:${UPSTREAM_AUDIENCE}`,
      });
  });

  it('a caller token is exchanged once and reused until shortly before expiry', async () => {
    const token = await idp.token({ resource: canonicalUri, clientId: alice.clientId });
    const before = idp.exchanges.length;
    const client = await callerClient(token);
    const first = await upstreamAuthorization(client);
    const second = await upstreamAuthorization(client);
    await client.close();
    expect(second).toBe(first);
    expect(idp.exchanges.length).toBe(before + 1);
    const metrics = await (await fetch(`${sidecar.adminUrl}/metrics`)).text();
    expect(metrics).toMatch(
      /portcullis_sidecar_upstream_credentials_total\{server="test-server",mode="tokenExchange",result="cache_hit"\} [1-9]/,
    );
  });

  it('a revoked subject token is refused: JSON-RPC error with the request id, nothing upstream', async () => {
    const token = await idp.token({ resource: canonicalUri, clientId: bob.clientId });
    idp.revoke(token);
    const seen = upstream.seen.length;
    const res = await post(sidecar.url, initializeBody(41), { authorization: `Bearer ${token}` });
    expect(res.status).toBe(200);
    expect(messageOf(res.text)).toMatchObject({ jsonrpc: '2.0', id: 41, error: { code: -32005 } });
    expect(upstream.seen.length).toBe(seen);
    expect(idp.exchanges.at(-1)).toMatchObject({ subject: bob.clientId, result: 'invalid_grant' });
    // The record is written when the answer has gone out.
    await expect
      .poll(() => recorder.records.find((r) => r.jsonrpcId === 41))
      .toMatchObject({ outcome: 'failed', errorCode: 'UPSTREAM_CREDENTIAL_MISSING' });
  });

  it('an expired subject token (still inside the sidecar clock skew) is refused by the provider', async () => {
    const now = Math.floor(Date.now() / 1000);
    const token = await idp.sign({
      sub: alice.clientId,
      aud: canonicalUri,
      client_id: alice.clientId,
      groups: ['engineering'],
      iat: now - 300,
      exp: now - 5,
    });
    const seen = upstream.seen.length;
    const res = await post(sidecar.url, initializeBody(42), { authorization: `Bearer ${token}` });
    expect(messageOf(res.text)).toMatchObject({ id: 42, error: { code: -32005 } });
    expect(upstream.seen.length).toBe(seen);
    expect(idp.exchanges.at(-1)).toMatchObject({ subject: '', result: 'invalid_grant' });
  });
});

describe('a dead token endpoint', () => {
  let dead: RunningSidecar;
  beforeAll(async () => {
    const closedPort = await freePort();
    dead = await exchangeSidecar(`http://127.0.0.1:${closedPort}/token`);
  });
  afterAll(() => dead?.close());

  it('answers with a JSON-RPC error carrying the request id, and then fails fast with the circuit open', async () => {
    const token = await idp.token({ resource: new URL(dead.url).href, clientId: alice.clientId });
    for (const id of [51, 52, 53]) {
      const res = await post(dead.url, initializeBody(id), { authorization: `Bearer ${token}` });
      expect(res.status).toBe(502);
      expect(messageOf(res.text)).toMatchObject({ id, error: { code: -32603 } });
    }
    const metrics = await (await fetch(`${dead.adminUrl}/metrics`)).text();
    expect(metrics).toMatch(/mode="tokenExchange",result="unavailable"\} 3/);
  });
});

describe('client credentials (RFC 6749 §4.4)', () => {
  let own: RunningSidecar;
  beforeAll(async () => {
    own = await exchangeSidecar(`${idp.issuer}/token`, undefined, {
      mode: 'clientCredentials',
      tokenEndpoint: `${idp.issuer}/token`,
      issuer: idp.issuer,
      clientId: gateway.clientId,
      clientSecretFile: join(dir, 'client-secret'),
      resource: UPSTREAM_AUDIENCE,
      header: 'authorization',
      refreshBeforeExpirySeconds: 30,
    });
    sidecar = own; // callerClient() talks to `sidecar`
  });
  afterAll(() => own?.close());

  it("every caller's request carries the server's own token, obtained once", async () => {
    const jwks = createRemoteJWKSet(new URL(`${idp.issuer}/jwks`));
    const sent: string[] = [];
    for (const caller of [alice, bob]) {
      const client = await callerClient(
        await idp.token({ resource: canonicalUri, clientId: caller.clientId }),
      );
      sent.push(await upstreamAuthorization(client));
      await client.close();
    }
    expect(sent[0]).toBe(sent[1]);
    const { payload } = await jwtVerify((sent[0] ?? '').slice('Bearer '.length), jwks, {
      issuer: idp.issuer,
      audience: UPSTREAM_AUDIENCE,
    });
    expect(payload.sub).toBe(gateway.clientId);
    const metrics = await (await fetch(`${own.adminUrl}/metrics`)).text();
    expect(metrics).toMatch(/mode="clientCredentials",result="issued"\} 1\n/);
  });
});
