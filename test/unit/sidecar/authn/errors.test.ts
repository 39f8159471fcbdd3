import { describe, expect, it } from 'vitest';
import { AuthnError, type AuthnErrorCode, createChallenge } from '../../../../sidecar/src/authn/errors.ts';

const url = 'https://mcp.example.com/.well-known/oauth-protected-resource/mcp';

describe('AuthnError', () => {
  it.each<{ code: AuthnErrorCode; status: number; header: string }>([
    { code: 'missing_credentials', status: 401, header: `Bearer resource_metadata="${url}"` },
    { code: 'unsupported_scheme', status: 401, header: `Bearer resource_metadata="${url}"` },
    { code: 'expired', status: 401, header: `Bearer resource_metadata="${url}", error="invalid_token"` },
    {
      code: 'repeated_credentials',
      status: 400,
      header: `Bearer resource_metadata="${url}", error="invalid_request"`,
    },
    {
      code: 'unsupported_critical_header',
      status: 401,
      header: `Bearer resource_metadata="${url}", error="invalid_token"`,
    },
    {
      code: 'invalid_signature',
      status: 401,
      header: `Bearer resource_metadata="${url}", error="invalid_token"`,
    },
    {
      code: 'invalid_api_key',
      status: 401,
      header: `Bearer resource_metadata="${url}", error="invalid_token"`,
    },
    {
      code: 'insufficient_scope',
      status: 403,
      header: `Bearer resource_metadata="${url}", error="insufficient_scope"`,
    },
    {
      code: 'issuer_unavailable',
      status: 503,
      header: `Bearer resource_metadata="${url}"`,
    },
  ])('$code -> $status', ({ code, status, header }) => {
    const err = new AuthnError(code, 'detail for audit', createChallenge(url, []));
    expect(err.httpStatus).toBe(status);
    expect(err.wwwAuthenticate).toBe(header);
    expect(err.detail).toBe('detail for audit');
    expect(err.message).not.toContain('detail');
  });

  it('adds the required scopes to every challenge', () => {
    const challenge = createChallenge(url, ['mcp:tools', 'mcp:read']);
    expect(new AuthnError('insufficient_scope', 'x', challenge).wwwAuthenticate).toBe(
      `Bearer resource_metadata="${url}", error="insufficient_scope", scope="mcp:tools mcp:read"`,
    );
    expect(new AuthnError('missing_credentials', 'x', challenge).wwwAuthenticate).toBe(
      `Bearer resource_metadata="${url}", scope="mcp:tools mcp:read"`,
    );
  });

  it('quotes values safely', () => {
    expect(createChallenge('https://h/"x\\', []).header(undefined)).toBe(
      'Bearer resource_metadata="https://h/\\"x\\\\"',
    );
  });
});
