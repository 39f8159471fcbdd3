import { describe, expect, it } from 'vitest';
import { discoveryUrl, jwksUriFromDiscovery } from '../../../../sidecar/src/authn/discovery.ts';

describe('discovery', () => {
  it.each([
    ['https://idp.example.com', 'https://idp.example.com/.well-known/openid-configuration'],
    ['https://idp.example.com/', 'https://idp.example.com/.well-known/openid-configuration'],
    ['https://idp.example.com/realms/a', 'https://idp.example.com/realms/a/.well-known/openid-configuration'],
  ])('discoveryUrl(%s)', (issuer, url) => {
    expect(discoveryUrl(issuer)).toBe(url);
  });

  it('returns the jwks_uri of a matching document', () => {
    expect(jwksUriFromDiscovery('https://idp', { issuer: 'https://idp', jwks_uri: 'https://idp/keys' })).toBe(
      'https://idp/keys',
    );
  });

  it.each([
    {
      name: 'another issuer',
      doc: { issuer: 'https://evil', jwks_uri: 'https://evil/keys' },
      error: /does not match/,
    },
    { name: 'no jwks_uri', doc: { issuer: 'https://idp' }, error: /jwks_uri/ },
    {
      name: 'non-http jwks_uri',
      doc: { issuer: 'https://idp', jwks_uri: 'file:///etc/keys' },
      error: /jwks_uri/,
    },
    { name: 'not an object', doc: 'x', error: /object/ },
  ])('refuses $name', ({ doc, error }) => {
    expect(() => jwksUriFromDiscovery('https://idp', doc)).toThrow(error);
  });
});
