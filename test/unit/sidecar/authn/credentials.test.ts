import { describe, expect, it } from 'vitest';
import {
  MAX_TOKEN_BYTES,
  readCredential,
  repeatedCredentialHeader,
} from '../../../../sidecar/src/authn/credentials.ts';

const jwt = 'eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJhIn0.c2ln';

describe('readCredential', () => {
  it.each([
    { name: 'nothing', authorization: undefined, apiKey: undefined, kind: 'none' },
    { name: 'Bearer with no token', authorization: 'Bearer', apiKey: undefined, kind: 'empty-bearer' },
    {
      name: 'Bearer and spaces, no token',
      authorization: 'Bearer  ',
      apiKey: undefined,
      kind: 'empty-bearer',
    },
    { name: 'a tab after Bearer', authorization: `Bearer\t${jwt}`, apiKey: undefined, kind: 'jwt' },
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

describe('the scheme a refusal names is never part of the credential', () => {
  it.each([
    ['Basic dXNlcjpwYXNz', 'Basic'],
    ['digest username="a"', 'Digest'],
    ['DPoP eyJhbGciOiJFUzI1NiJ9.e30.c2ln', 'DPoP'],
    // an unregistered word before a space may be a secret: not named
    ['pc_live_secret0123456789 x', undefined],
    ['pc_live_secret0123456789', undefined],
    ['Bearer-ish\tpc_live_secret', undefined],
  ])('%s -> %s', (authorization, scheme) => {
    expect(readCredential(authorization, undefined)).toEqual({ kind: 'unsupported-scheme', scheme });
  });
});

describe('repeatedCredentialHeader', () => {
  it.each([
    [['Authorization', 'Bearer a', 'Host', 'h'], undefined],
    [['authorization', 'Bearer a', 'x-api-key', 'k'], undefined],
    [['Authorization', 'Bearer good', 'authorization', 'Bearer tampered'], 'Authorization'],
    [['X-API-Key', 'good', 'x-api-key', 'tampered'], 'X-API-Key'],
    [['X-Api-Key-Id', 'a', 'x-api-key', 'k', 'Authorizations', 'b', 'authorization', 'c'], undefined],
  ])('%j -> %s', (raw, expected) => {
    expect(repeatedCredentialHeader(raw)).toBe(expected);
  });
});
