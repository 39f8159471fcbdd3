import { createPublicKey } from 'node:crypto';
import { generateKeyPair, SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAuthenticator } from '../../../../sidecar/src/authn/authenticator.ts';
import type { AuthnErrorCode } from '../../../../sidecar/src/authn/errors.ts';
import { startOidcProvider, type TestOidcProvider } from '../../../support/oidc-provider.ts';
import { authentication, CANONICAL_URI, METADATA_URL, oidc } from './config.ts';

// The forged-token corpus: each credential is refused with 401, the right code, and an RFC 6750
// challenge pointing at the RFC 9728 metadata. Tokens start from real ones issued by a real provider.

let idp: TestOidcProvider;
let other: TestOidcProvider;
let real: string;

const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
const parts = (token: string) => token.split('.') as [string, string, string];
const header = (token: string) =>
  JSON.parse(Buffer.from(parts(token)[0], 'base64url').toString()) as Record<string, unknown>;
const payload = (token: string) =>
  JSON.parse(Buffer.from(parts(token)[1], 'base64url').toString()) as Record<string, unknown>;
const nowSeconds = () => Math.floor(Date.now() / 1000);

beforeAll(async () => {
  idp = await startOidcProvider();
  other = await startOidcProvider();
  real = await idp.token({ resource: CANONICAL_URI, scope: 'mcp:tools' });
});
afterAll(async () => {
  await idp.close();
  await other.close();
});

interface Forgery {
  name: string;
  credential: () => Promise<string>;
  code: AuthnErrorCode;
  /** The authenticator's clock, when the case is about time. */
  now?: () => Date;
}

const corpus: Forgery[] = [
  {
    name: 'alg none (unsigned)',
    credential: async () => `${b64({ ...header(real), alg: 'none' })}.${parts(real)[1]}.`,
    code: 'algorithm_not_allowed',
  },
  {
    name: 'HS256 signed with the RSA public key as the HMAC secret',
    credential: async () => {
      const pem = createPublicKey({ key: idp.signingKey().publicJwk as never, format: 'jwk' }).export({
        type: 'spki',
        format: 'pem',
      });
      return new SignJWT(payload(real))
        .setProtectedHeader({ alg: 'HS256', kid: idp.signingKey().kid, typ: 'at+jwt' })
        .sign(new TextEncoder().encode(String(pem)));
    },
    code: 'algorithm_not_allowed',
  },
  {
    name: 'wrong issuer (a real token from another provider)',
    credential: () => other.token({ resource: CANONICAL_URI }),
    code: 'untrusted_issuer',
  },
  {
    name: 'issuer claim rewritten to a trusted one, signed by another provider',
    credential: () => other.sign({ ...payload(real), iss: idp.issuer }),
    code: 'unknown_key',
  },
  {
    name: 'wrong audience (a real token for another resource)',
    credential: () => idp.token({ resource: 'http://127.0.0.1:9999/other-mcp' }),
    code: 'invalid_audience',
  },
  {
    name: 'expired (a real token, an hour later)',
    credential: async () => real,
    now: () => new Date(Date.now() + 3_600_000),
    code: 'expired',
  },
  {
    name: 'expired (exp in the past, signed by the provider key)',
    credential: () => idp.sign({ ...payload(real), exp: nowSeconds() - 120 }),
    code: 'expired',
  },
  {
    name: 'not yet valid (nbf an hour ahead)',
    credential: () => idp.sign({ ...payload(real), nbf: nowSeconds() + 3600 }),
    code: 'not_yet_valid',
  },
  {
    name: 'no exp claim',
    credential: () => idp.sign({ ...payload(real), exp: undefined }),
    code: 'invalid_claims',
  },
  {
    name: 'unknown kid (a key the provider never published)',
    credential: async () => {
      const { privateKey } = await generateKeyPair('RS256');
      return new SignJWT(payload(real))
        .setProtectedHeader({ alg: 'RS256', kid: 'not-published' })
        .sign(privateKey);
    },
    code: 'unknown_key',
  },
  {
    name: 'known kid, signed by another key',
    credential: async () => {
      const { privateKey } = await generateKeyPair('RS256');
      return new SignJWT(payload(real))
        .setProtectedHeader({ alg: 'RS256', kid: idp.signingKey().kid })
        .sign(privateKey);
    },
    code: 'invalid_signature',
  },
  {
    name: 'tampered payload (groups escalated, signature kept)',
    credential: async () =>
      `${parts(real)[0]}.${b64({ ...payload(real), groups: ['admin'] })}.${parts(real)[2]}`,
    code: 'invalid_signature',
  },
  {
    name: 'tampered header (kid swapped, signature kept)',
    credential: async () => `${b64({ ...header(real), kid: 'x' })}.${parts(real)[1]}.${parts(real)[2]}`,
    code: 'unknown_key',
  },
  {
    name: 'oversized (> 16 KiB)',
    credential: () => idp.sign({ ...payload(real), pad: 'x'.repeat(17 * 1024) }),
    code: 'token_too_large',
  },
  {
    name: 'malformed (three segments of garbage)',
    credential: async () => 'abc.def.ghi',
    code: 'malformed_token',
  },
  {
    name: 'malformed (header is not JSON)',
    credential: async () =>
      `${Buffer.from('not json').toString('base64url')}.${parts(real)[1]}.${parts(real)[2]}`,
    code: 'malformed_token',
  },
  {
    name: 'malformed (payload is not JSON)',
    credential: async () =>
      `${parts(real)[0]}.${Buffer.from('[1,2').toString('base64url')}.${parts(real)[2]}`,
    code: 'malformed_token',
  },
  {
    name: 'not a JWT and no API keys configured',
    credential: async () => 'opaque-token-value',
    code: 'malformed_token',
  },
];

describe('forged-token corpus', () => {
  it('the untouched real token is accepted (the corpus starts from a valid token)', async () => {
    const authn = createAuthenticator(authentication({ oidc: [oidc(idp.issuer)] }), {
      canonicalUri: CANONICAL_URI,
    });
    expect((await authn.authenticate({ authorization: `Bearer ${real}` })).ok).toBe(true);
    authn.close();
  });

  it.each(corpus)('$name -> 401 $code', async ({ credential, code, now }) => {
    const authn = createAuthenticator(authentication({ oidc: [oidc(idp.issuer)] }), {
      canonicalUri: CANONICAL_URI,
      now,
      jwks: { cooldownMs: 0 },
    });
    const result = await authn.authenticate({ authorization: `Bearer ${await credential()}` });
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.error.code).toBe(code);
    expect(result.error.httpStatus).toBe(401);
    expect(result.error.wwwAuthenticate).toBe(
      `Bearer resource_metadata="${METADATA_URL}", error="invalid_token"`,
    );
    expect(result.error.message).toBe('Authentication required: present a valid access token');
    expect(result.error.detail).not.toBe('');
    authn.close();
  });

  it('a non-Bearer scheme gets 401 with a bare challenge', async () => {
    const authn = createAuthenticator(authentication({ oidc: [oidc(idp.issuer)] }), {
      canonicalUri: CANONICAL_URI,
    });
    const result = await authn.authenticate({
      authorization: `Basic ${Buffer.from('a:b').toString('base64')}`,
    });
    expect(!result.ok && [result.error.code, result.error.wwwAuthenticate]).toEqual([
      'unsupported_scheme',
      `Bearer resource_metadata="${METADATA_URL}"`,
    ]);
    authn.close();
  });

  it('refuses to be configured with none or HMAC algorithms', () => {
    for (const alg of ['none', 'HS256']) {
      expect(() =>
        createAuthenticator(authentication({ oidc: [oidc(idp.issuer, { algorithms: ['RS256', alg] })] }), {
          canonicalUri: CANONICAL_URI,
        }),
      ).toThrow(/authentication\.oidc\[0\]\.algorithms/);
    }
  });

  it('an ES256-only configuration refuses the provider RS256 token', async () => {
    const authn = createAuthenticator(
      authentication({ oidc: [oidc(idp.issuer, { algorithms: ['ES256'] })] }),
      {
        canonicalUri: CANONICAL_URI,
      },
    );
    const result = await authn.authenticate({ authorization: `Bearer ${real}` });
    expect(!result.ok && result.error.code).toBe('algorithm_not_allowed');
    authn.close();
  });

  it('an unreachable issuer is 503 issuer_unavailable, and is not retried on every request', async () => {
    const down = 'http://127.0.0.1:9';
    let calls = 0;
    const authn = createAuthenticator(authentication({ oidc: [oidc(down)] }), {
      canonicalUri: CANONICAL_URI,
      fetch: (input, init) => {
        calls++;
        return fetch(input, init);
      },
    });
    const token = await other.sign({ ...payload(real), iss: down });
    for (let i = 0; i < 3; i++) {
      const result = await authn.authenticate({ authorization: `Bearer ${token}` });
      expect(!result.ok && [result.error.code, result.error.httpStatus]).toEqual(['issuer_unavailable', 503]);
    }
    expect(calls).toBe(1);
    authn.close();
  });
});
