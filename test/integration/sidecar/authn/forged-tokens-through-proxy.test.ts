import { createPublicKey } from 'node:crypto';
import { generateKeyPair, SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../../../../sidecar/src/quickstart/everything.ts';
import type { RunningSidecar } from '../../../../sidecar/src/server/sidecar.ts';
import { type EchoUpstream, startEchoUpstream } from '../../../support/echo-upstream.ts';
import { config, initializeBody, post, sidecarFor } from '../../../support/harness.ts';
import { startOidcProvider, type TestOidcProvider } from '../../../support/oidc-provider.ts';

// The forged-token corpus end to end: through the real proxy every forgery gets 401 with a
// challenge, and the upstream server never sees a single one of those requests.

let idp: TestOidcProvider;
let other: TestOidcProvider;
let upstream: EchoUpstream;
let sidecar: RunningSidecar;
let canonical: string;
let real: string;

const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
const parts = (t: string) => t.split('.') as [string, string, string];
const header = (t: string) =>
  JSON.parse(Buffer.from(parts(t)[0], 'base64url').toString()) as Record<string, unknown>;
const payload = (t: string) =>
  JSON.parse(Buffer.from(parts(t)[1], 'base64url').toString()) as Record<string, unknown>;
const now = () => Math.floor(Date.now() / 1000);

beforeAll(async () => {
  [idp, other, upstream] = await Promise.all([startOidcProvider(), startOidcProvider(), startEchoUpstream()]);
  const port = await freePort();
  canonical = `http://127.0.0.1:${port}/mcp`;
  sidecar = await sidecarFor(
    config({
      canonicalUri: canonical,
      upstream: { transport: 'streamable-http', url: upstream.url },
      authentication: { apiKeys: [], oidc: [{ issuer: idp.issuer }] as never },
    }),
    undefined,
    { portOverride: port },
  );
  real = await idp.token({ resource: canonical });
});

afterAll(async () => {
  await sidecar?.close();
  await upstream?.close();
  await idp?.close();
  await other?.close();
});

const corpus: { name: string; token: () => Promise<string> }[] = [
  { name: 'alg none', token: async () => `${b64({ ...header(real), alg: 'none' })}.${parts(real)[1]}.` },
  {
    name: 'HS256 signed with the RSA public key',
    token: async () => {
      const pem = createPublicKey({ key: idp.signingKey().publicJwk as never, format: 'jwk' }).export({
        type: 'spki',
        format: 'pem',
      });
      return new SignJWT(payload(real))
        .setProtectedHeader({ alg: 'HS256', kid: idp.signingKey().kid })
        .sign(new TextEncoder().encode(String(pem)));
    },
  },
  { name: 'wrong issuer', token: () => other.token({ resource: canonical }) },
  { name: 'wrong audience', token: () => idp.token({ resource: 'http://127.0.0.1:1/other' }) },
  { name: 'expired', token: () => idp.sign({ ...payload(real), exp: now() - 600 }) },
  { name: 'not yet valid', token: () => idp.sign({ ...payload(real), nbf: now() + 3600 }) },
  {
    name: 'unknown kid',
    token: async () => {
      const { privateKey } = await generateKeyPair('RS256');
      return new SignJWT(payload(real))
        .setProtectedHeader({ alg: 'RS256', kid: 'never-published' })
        .sign(privateKey);
    },
  },
  {
    name: 'tampered payload',
    token: async () => `${parts(real)[0]}.${b64({ ...payload(real), groups: ['admin'] })}.${parts(real)[2]}`,
  },
  { name: 'oversized', token: () => idp.sign({ ...payload(real), pad: 'x'.repeat(17 * 1024) }) },
  { name: 'malformed', token: async () => 'abc.def.ghi' },
];

describe('forged tokens through the proxy', () => {
  it('the real token works (the corpus is refused for its forgery, not for the setup)', async () => {
    const res = await post(sidecar.url, initializeBody(), { authorization: `Bearer ${real}` });
    expect(res.status).toBe(200);
  });

  it.each(corpus)('$name -> 401, and the upstream sees nothing', async ({ token }) => {
    const seenBefore = upstream.seen.length;
    const res = await post(sidecar.url, initializeBody(), { authorization: `Bearer ${await token()}` });
    expect(res.status).toBe(401);
    expect(res.headers.get('www-authenticate')).toContain('resource_metadata=');
    expect(upstream.seen.length).toBe(seenBefore);
  });
});
