import { describe, expect, it } from 'vitest';
import {
  metadataLocation,
  protectedResourceMetadata,
} from '../../../../sidecar/src/authn/protected-resource-metadata.ts';

describe('metadataLocation (RFC 9728 §3.1)', () => {
  it.each([
    {
      canonical: 'https://mcp.example.com/mcp',
      url: 'https://mcp.example.com/.well-known/oauth-protected-resource/mcp',
      paths: ['/.well-known/oauth-protected-resource/mcp', '/.well-known/oauth-protected-resource'],
    },
    {
      canonical: 'http://payments.team.svc:8080/v1/mcp',
      url: 'http://payments.team.svc:8080/.well-known/oauth-protected-resource/v1/mcp',
      paths: ['/.well-known/oauth-protected-resource/v1/mcp', '/.well-known/oauth-protected-resource'],
    },
    {
      canonical: 'https://mcp.example.com',
      url: 'https://mcp.example.com/.well-known/oauth-protected-resource',
      paths: ['/.well-known/oauth-protected-resource'],
    },
    {
      canonical: 'https://mcp.example.com/',
      url: 'https://mcp.example.com/.well-known/oauth-protected-resource',
      paths: ['/.well-known/oauth-protected-resource'],
    },
    {
      canonical: 'https://MCP.Example.com:443/mcp',
      url: 'https://mcp.example.com/.well-known/oauth-protected-resource/mcp',
      paths: ['/.well-known/oauth-protected-resource/mcp', '/.well-known/oauth-protected-resource'],
    },
  ])('$canonical', ({ canonical, url, paths }) => {
    expect(metadataLocation(canonical)).toEqual({ url, paths });
  });
});

describe('protectedResourceMetadata', () => {
  it('advertises the configured authorization servers and scopes', () => {
    expect(
      protectedResourceMetadata({
        canonicalUri: 'https://mcp.example.com/mcp',
        authorizationServers: ['https://login.example.com'],
        oidcIssuers: ['https://ignored.example.com'],
        requiredScopes: ['mcp:tools'],
        resourceName: 'payments',
      }),
    ).toEqual({
      resource: 'https://mcp.example.com/mcp',
      authorization_servers: ['https://login.example.com'],
      bearer_methods_supported: ['header'],
      scopes_supported: ['mcp:tools'],
      resource_name: 'payments',
    });
  });

  it('defaults the authorization servers to the OIDC issuers and omits empty fields', () => {
    expect(
      protectedResourceMetadata({
        canonicalUri: 'https://m/mcp',
        oidcIssuers: ['https://idp'],
        requiredScopes: [],
      }),
    ).toEqual({
      resource: 'https://m/mcp',
      authorization_servers: ['https://idp'],
      bearer_methods_supported: ['header'],
    });
  });
});
