import { describe, expect, it } from 'vitest';
import { MAX_TOKEN_BYTES, readCredential } from '../../../../sidecar/src/authn/credentials.ts';

const jwt = 'eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJhIn0.c2ln';

describe('readCredential', () => {
  it.each([
    { name: 'nothing', authorization: undefined, apiKey: undefined, kind: 'none' },
    { name: 'empty bearer', authorization: 'Bearer ', apiKey: undefined, kind: 'none' },
    { name: 'JWT bearer', authorization: `Bearer ${jwt}`, apiKey: undefined, kind: 'jwt' },
    { name: 'scheme is case-insensitive', authorization: `bearer ${jwt}`, apiKey: undefined, kind: 'jwt' },
    {
      name: 'alg none token (empty signature) is still a JWT',
      authorization: 'Bearer eyJhbGciOiJub25lIn0.eyJzdWIiOiJhIn0.',
      apiKey: undefined,
      kind: 'jwt',
    },
    {
      name: 'opaque bearer is an API key',
      authorization: 'Bearer pc_live_123',
      apiKey: undefined,
      kind: 'api-key',
    },
    {
      name: 'JWE-shaped bearer is not a JWS',
      authorization: 'Bearer a.b.c.d.e',
      apiKey: undefined,
      kind: 'api-key',
    },
    { name: 'X-API-Key header', authorization: undefined, apiKey: 'pc_live_123', kind: 'api-key' },
    {
      name: 'X-API-Key wins over Authorization',
      authorization: `Bearer ${jwt}`,
      apiKey: 'k',
      kind: 'api-key',
    },
    {
      name: 'Basic scheme',
      authorization: 'Basic dXNlcjpwYXNz',
      apiKey: undefined,
      kind: 'unsupported-scheme',
    },
    {
      name: 'oversized bearer',
      authorization: `Bearer ${'a'.repeat(MAX_TOKEN_BYTES + 1)}`,
      apiKey: undefined,
      kind: 'too-large',
    },
    {
      name: 'oversized API key',
      authorization: undefined,
      apiKey: 'k'.repeat(MAX_TOKEN_BYTES + 1),
      kind: 'too-large',
    },
  ])('$name -> $kind', ({ authorization, apiKey, kind }) => {
    expect(readCredential(authorization, apiKey).kind).toBe(kind);
  });

  it('a token of exactly the limit is accepted for parsing', () => {
    const token = `${'a'.repeat(MAX_TOKEN_BYTES - 10)}.b.c`.slice(0, MAX_TOKEN_BYTES);
    expect(readCredential(`Bearer ${token}`, undefined).kind).not.toBe('too-large');
  });
});
