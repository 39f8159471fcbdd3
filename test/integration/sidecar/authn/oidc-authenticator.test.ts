import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hashApiKey } from '../../../../sidecar/src/authn/api-keys.ts';
import { createAuthenticator } from '../../../../sidecar/src/authn/authenticator.ts';
import { startOidcProvider, type TestOidcProvider } from '../../../support/oidc-provider.ts';
import { authentication, CANONICAL_URI, countingFetch, METADATA_URL, oidc } from './config.ts';

// Real tokens from a real OpenID provider (oidc-provider, client credentials, RFC 8707 resource).

let idp: TestOidcProvider;

beforeAll(async () => {
  idp = await startOidcProvider({
    clients: [
      {
        clientId: 'alice-cli',
        clientSecret: 'alice-secret',
        groups: ['engineering', 'payments'],
        claims: { email: 'alice@example.com', acr: 'mfa' },
      },
      { clientId: 'reader', clientSecret: 'reader-secret', groups: [], scopes: ['mcp:read'] },
    ],
  });
});
afterAll(() => idp.close());

describe('OIDC access tokens', () => {
  it('accepts a real token for this resource and maps it to a principal', async () => {
    const authn = createAuthenticator(
      authentication({ oidc: [oidc(idp.issuer, { usernameClaim: 'email' })] }),
      {
        canonicalUri: CANONICAL_URI,
      },
    );
    const token = await idp.token({ resource: CANONICAL_URI, scope: 'mcp:tools', clientId: 'alice-cli' });
    const result = await authn.authenticate({ authorization: `Bearer ${token}` });
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    expect(result.principal).toMatchObject({
      subject: 'alice-cli',
      name: 'alice@example.com',
      groups: ['engineering', 'payments'],
      method: 'oidc',
      issuer: idp.issuer,
      scopes: ['mcp:tools'],
      clientId: 'alice-cli',
    });
    expect(result.principal.claims.acr).toBe('mfa');
    authn.close();
  });

  it('fetches discovery and keys once for many requests', async () => {
    const counting = countingFetch();
    const authn = createAuthenticator(authentication({ oidc: [oidc(idp.issuer)] }), {
      canonicalUri: CANONICAL_URI,
      fetch: counting.fetch,
    });
    const token = await idp.token({ resource: CANONICAL_URI, clientId: 'alice-cli' });
    const results = await Promise.all(
      Array.from({ length: 20 }, () => authn.authenticate({ authorization: `Bearer ${token}` })),
    );
    expect(results.every((r) => r.ok)).toBe(true);
    expect(counting.count('/.well-known/openid-configuration')).toBe(1);
    expect(counting.count('/jwks')).toBe(1);
    authn.close();
  });

  it('warm() prefetches so the first request needs no network', async () => {
    const counting = countingFetch();
    const authn = createAuthenticator(authentication({ oidc: [oidc(idp.issuer)] }), {
      canonicalUri: CANONICAL_URI,
      fetch: counting.fetch,
    });
    await authn.warm();
    expect(counting.count('/jwks')).toBe(1);
    const token = await idp.token({ resource: CANONICAL_URI, clientId: 'alice-cli' });
    expect((await authn.authenticate({ authorization: `Bearer ${token}` })).ok).toBe(true);
    expect(counting.count('/jwks')).toBe(1);
    authn.close();
  });

  it('a verified token is remembered, but never past its exp', async () => {
    let offsetMs = 0;
    const authn = createAuthenticator(authentication({ oidc: [oidc(idp.issuer)] }), {
      canonicalUri: CANONICAL_URI,
      now: () => new Date(Date.now() + offsetMs),
    });
    const token = await idp.token({ resource: CANONICAL_URI, clientId: 'alice-cli' });
    expect((await authn.authenticate({ authorization: `Bearer ${token}` })).ok).toBe(true);
    expect((await authn.authenticate({ authorization: `Bearer ${token}` })).ok).toBe(true);
    offsetMs = 3_600_000;
    const late = await authn.authenticate({ authorization: `Bearer ${token}` });
    expect(!late.ok && late.error.code).toBe('expired');
    authn.close();
  });

  it('a token without a required scope gets 403 insufficient_scope with the scope in the challenge', async () => {
    const authn = createAuthenticator(
      authentication({ oidc: [oidc(idp.issuer)], requiredScopes: ['mcp:tools'] }),
      { canonicalUri: CANONICAL_URI },
    );
    const token = await idp.token({ resource: CANONICAL_URI, scope: 'mcp:read', clientId: 'reader' });
    const result = await authn.authenticate({ authorization: `Bearer ${token}` });
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.error.code).toBe('insufficient_scope');
    expect(result.error.httpStatus).toBe(403);
    expect(result.error.wwwAuthenticate).toBe(
      `Bearer resource_metadata="${METADATA_URL}", error="insufficient_scope", scope="mcp:tools"`,
    );
    expect(result.error.detail).toContain('mcp:tools');
    authn.close();
  });

  it('a token with the required scope passes', async () => {
    const authn = createAuthenticator(
      authentication({ oidc: [oidc(idp.issuer)], requiredScopes: ['mcp:tools'] }),
      { canonicalUri: CANONICAL_URI },
    );
    const token = await idp.token({
      resource: CANONICAL_URI,
      scope: 'mcp:tools mcp:read',
      clientId: 'alice-cli',
    });
    expect((await authn.authenticate({ authorization: `Bearer ${token}` })).ok).toBe(true);
    authn.close();
  });

  it('accepts configured audiences instead of the canonical URI', async () => {
    const authn = createAuthenticator(
      authentication({ oidc: [oidc(idp.issuer, { audiences: ['https://payments.example.com/mcp'] })] }),
      { canonicalUri: CANONICAL_URI },
    );
    const other = await idp.token({ resource: 'https://payments.example.com/mcp', clientId: 'alice-cli' });
    const canonical = await idp.token({ resource: CANONICAL_URI, clientId: 'alice-cli' });
    expect((await authn.authenticate({ authorization: `Bearer ${other}` })).ok).toBe(true);
    const refused = await authn.authenticate({ authorization: `Bearer ${canonical}` });
    expect(!refused.ok && refused.error.code).toBe('invalid_audience');
    authn.close();
  });

  it('publishes RFC 9728 metadata naming the issuer as authorization server', () => {
    const authn = createAuthenticator(
      authentication({ oidc: [oidc(idp.issuer)], requiredScopes: ['mcp:tools'] }),
      {
        canonicalUri: CANONICAL_URI,
      },
    );
    expect(authn.protectedResource).toEqual({
      url: METADATA_URL,
      paths: ['/.well-known/oauth-protected-resource/mcp', '/.well-known/oauth-protected-resource'],
      document: {
        resource: CANONICAL_URI,
        authorization_servers: [idp.issuer],
        bearer_methods_supported: ['header'],
        scopes_supported: ['mcp:tools'],
      },
    });
    authn.close();
  });
});

describe('service-account tokens (a real issuer standing in for the API server)', () => {
  let sa: TestOidcProvider;
  beforeAll(async () => {
    sa = await startOidcProvider({
      clients: [
        {
          clientId: 'system:serviceaccount:ci:release-bot',
          clientSecret: 'bot-secret',
          claims: {
            'kubernetes.io': { namespace: 'ci', serviceaccount: { name: 'release-bot', uid: 'u-1' } },
          },
        },
        {
          clientId: 'system:serviceaccount:ci:liar',
          clientSecret: 'liar-secret',
          claims: {
            'kubernetes.io': { namespace: 'prod', serviceaccount: { name: 'deployer', uid: 'u-2' } },
          },
        },
      ],
    });
  });
  afterAll(() => sa.close());

  const config = () => authentication({ oidc: [oidc(idp.issuer)], serviceAccounts: { issuer: sa.issuer } });

  it('maps an audience-bound token to system:serviceaccount:<ns>:<name> with its groups', async () => {
    const authn = createAuthenticator(config(), { canonicalUri: CANONICAL_URI });
    const token = await sa.token({ resource: CANONICAL_URI });
    const result = await authn.authenticate({ authorization: `Bearer ${token}` });
    expect(result.ok && result.principal).toMatchObject({
      subject: 'system:serviceaccount:ci:release-bot',
      groups: ['system:serviceaccounts', 'system:serviceaccounts:ci'],
      method: 'service-account',
      serviceAccount: { namespace: 'ci', name: 'release-bot' },
    });
    authn.close();
  });

  it('refuses a service-account token bound to another audience', async () => {
    const authn = createAuthenticator(config(), { canonicalUri: CANONICAL_URI });
    const token = await sa.token({ resource: 'https://kubernetes.default.svc' });
    const result = await authn.authenticate({ authorization: `Bearer ${token}` });
    expect(!result.ok && result.error.code).toBe('invalid_audience');
    authn.close();
  });

  it('refuses a token whose kubernetes.io claim contradicts its sub', async () => {
    const authn = createAuthenticator(config(), { canonicalUri: CANONICAL_URI });
    const token = await sa.token({ resource: CANONICAL_URI, clientId: 'system:serviceaccount:ci:liar' });
    const result = await authn.authenticate({ authorization: `Bearer ${token}` });
    expect(!result.ok && result.error.code).toBe('invalid_claims');
    authn.close();
  });

  it('requiredScopes do not apply to service accounts (their tokens carry none)', async () => {
    const authn = createAuthenticator(
      { ...config(), requiredScopes: ['mcp:tools'] },
      { canonicalUri: CANONICAL_URI },
    );
    const token = await sa.token({ resource: CANONICAL_URI });
    expect((await authn.authenticate({ authorization: `Bearer ${token}` })).ok).toBe(true);
    authn.close();
  });
});

describe('API keys and anonymous callers', () => {
  const keys = authentication({
    oidc: [],
    apiKeys: [
      {
        id: 'reporting',
        sha256: hashApiKey('pc_reporting_key'),
        subject: 'svc-reporting',
        groups: ['reports'],
      },
    ],
  });

  it.each([
    { name: 'X-API-Key header', req: { apiKey: 'pc_reporting_key' } },
    { name: 'Authorization: Bearer <key>', req: { authorization: 'Bearer pc_reporting_key' } },
  ])('accepts a configured key from $name', async ({ req }) => {
    const authn = createAuthenticator(keys, { canonicalUri: CANONICAL_URI });
    const result = await authn.authenticate(req);
    expect(result.ok && result.principal).toMatchObject({
      subject: 'svc-reporting',
      name: 'svc-reporting',
      groups: ['reports'],
      method: 'api-key',
      apiKeyId: 'reporting',
      claims: {},
    });
    authn.close();
  });

  it('refuses an unknown key with 401 invalid_token', async () => {
    const authn = createAuthenticator(keys, { canonicalUri: CANONICAL_URI });
    const result = await authn.authenticate({ apiKey: 'pc_guess' });
    expect(!result.ok && [result.error.code, result.error.httpStatus]).toEqual(['invalid_api_key', 401]);
    authn.close();
  });

  it.each([
    { name: 'off (default): no credentials is 401 with a bare challenge', allowAnonymous: false, ok: false },
    { name: 'on: no credentials is the anonymous principal', allowAnonymous: true, ok: true },
  ])('allowAnonymous $name', async ({ allowAnonymous, ok }) => {
    const authn = createAuthenticator(authentication({ allowAnonymous }), { canonicalUri: CANONICAL_URI });
    const result = await authn.authenticate({});
    expect(result.ok).toBe(ok);
    if (result.ok) expect(result.principal.method).toBe('anonymous');
    else {
      expect(result.error.code).toBe('missing_credentials');
      expect(result.error.wwwAuthenticate).toBe(`Bearer resource_metadata="${METADATA_URL}"`);
    }
    authn.close();
  });

  it('allowAnonymous does not let a bad credential through', async () => {
    const authn = createAuthenticator(authentication({ allowAnonymous: true, oidc: [oidc(idp.issuer)] }), {
      canonicalUri: CANONICAL_URI,
    });
    const result = await authn.authenticate({ authorization: 'Bearer a.b.c' });
    expect(result.ok).toBe(false);
    authn.close();
  });
});

describe('the test provider itself (test/support/oidc-provider.ts)', () => {
  it('issues JWTs for a default resource and accepts client_secret_post', async () => {
    const p = await startOidcProvider({
      defaultResource: CANONICAL_URI,
      clients: [
        { clientId: 'poster', clientSecret: 'post-secret', tokenEndpointAuthMethod: 'client_secret_post' },
      ],
    });
    const authn = createAuthenticator(authentication({ oidc: [oidc(p.issuer)] }), {
      canonicalUri: CANONICAL_URI,
    });
    const result = await authn.authenticate({ authorization: `Bearer ${await p.token({})}` });
    expect(result.ok && result.principal.subject).toBe('poster');
    authn.close();
    await p.close();
  });
});

describe('signature algorithms', () => {
  it.each(['ES256', 'PS256'] as const)('accepts a real %s token from the provider', async (alg) => {
    const p = await startOidcProvider({ alg });
    const authn = createAuthenticator(authentication({ oidc: [oidc(p.issuer)] }), {
      canonicalUri: CANONICAL_URI,
    });
    const token = await p.token({ resource: CANONICAL_URI });
    expect(JSON.parse(Buffer.from(token.split('.')[0] ?? '', 'base64url').toString()).alg).toBe(alg);
    expect((await authn.authenticate({ authorization: `Bearer ${token}` })).ok).toBe(true);
    authn.close();
    await p.close();
  });
});
