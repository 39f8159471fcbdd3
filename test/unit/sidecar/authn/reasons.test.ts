import { generateKeyPair, jwtVerify, SignJWT } from 'jose';
import { describe, expect, it } from 'vitest';
import { createAuthenticator } from '../../../../sidecar/src/authn/authenticator.ts';
import { hashApiKey } from '../../../../sidecar/src/authn/index.ts';
import { classifyVerifyError } from '../../../../sidecar/src/authn/jwt-verifier.ts';

// The audit reason of every way an API key or Authorization header is refused: it names what was
// wrong, once, and never a character of the credential.

const SECRET = 'pc_live_0123456789abcdef';

const authn = createAuthenticator(
  {
    allowAnonymous: true,
    apiKeys: [{ id: 'k', sha256: hashApiKey('the-real-key'), subject: 's' }],
  },
  { canonicalUri: 'http://127.0.0.1/mcp' },
);

describe('authentication refusals', () => {
  it.each([
    ['a tab after Bearer', { authorization: `Bearer\t${SECRET}` }, 'invalid_api_key', 401],
    ['an unregistered scheme', { authorization: `Token ${SECRET}` }, 'unsupported_scheme', 401],
    ['no scheme, only the secret', { authorization: SECRET }, 'unsupported_scheme', 401],
    ['a secret glued to a scheme by a tab', { authorization: `Basic\t${SECRET}` }, 'unsupported_scheme', 401],
    ['an unknown API key', { apiKey: SECRET }, 'invalid_api_key', 401],
    ['Bearer with no token (not anonymous)', { authorization: 'Bearer' }, 'malformed_token', 401],
    [
      'Authorization twice',
      { authorization: `Bearer ${SECRET}`, repeated: 'Authorization' as const },
      'repeated_credentials',
      400,
    ],
    ['X-API-Key twice', { apiKey: SECRET, repeated: 'X-API-Key' as const }, 'repeated_credentials', 400],
  ])('%s: %s, and the reason holds no credential', async (_name, input, code, status) => {
    const result = await authn.authenticate(input);
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect([result.error.code, result.error.httpStatus]).toEqual([code, status]);
    // not even 4 characters of the secret, whatever the separator
    for (let i = 0; i + 4 <= SECRET.length; i++)
      expect(result.error.detail).not.toContain(SECRET.slice(i, i + 4));
    expect(result.error.detail).not.toContain(code);
  });

  it('says which registered scheme was used instead of Bearer', async () => {
    const result = await authn.authenticate({ authorization: 'Basic dXNlcjpwYXNz' });
    expect(!result.ok && result.error.detail).toBe('Authorization uses the Basic scheme, not Bearer');
  });

  it('says a Bearer without a token carries none (not that Bearer is not Bearer)', async () => {
    const result = await authn.authenticate({ authorization: 'bearer' });
    expect(!result.ok && result.error.detail).toBe(
      'Authorization names the Bearer scheme but carries no token',
    );
  });
});

describe('classifyVerifyError', () => {
  it('reports an unknown critical header parameter as its own code, not as a refused algorithm', async () => {
    const { publicKey, privateKey } = await generateKeyPair('ES256');
    const token = await new SignJWT({ sub: 'a' })
      .setProtectedHeader({ alg: 'ES256', crit: ['urn:example:policy'], 'urn:example:policy': 1 })
      .sign(privateKey, { crit: { 'urn:example:policy': true } });
    const err = await jwtVerify(token, publicKey).catch((e: unknown) => e);
    expect(classifyVerifyError(err, token).code).toBe('unsupported_critical_header');
  });

  it('still reports a refused algorithm as algorithm_not_allowed', async () => {
    const { publicKey, privateKey } = await generateKeyPair('ES256');
    const token = await new SignJWT({ sub: 'a' }).setProtectedHeader({ alg: 'ES256' }).sign(privateKey);
    const err = await jwtVerify(token, publicKey, { algorithms: ['RS256'] }).catch((e: unknown) => e);
    expect(classifyVerifyError(err, token).code).toBe('algorithm_not_allowed');
  });
});
