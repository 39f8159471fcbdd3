import { describe, expect, it } from 'vitest';
import {
  missingScopes,
  oidcPrincipal,
  scopesOf,
  serviceAccountPrincipal,
} from '../../../../sidecar/src/contract/claims.ts';

const mapping = { usernameClaim: 'email', groupsClaim: 'groups' };

describe('oidcPrincipal', () => {
  it('maps username, groups, scopes, issuer and client id', () => {
    const claims = {
      iss: 'https://idp',
      sub: 'u-1',
      email: 'alice@example.com',
      groups: ['eng', 7, 'ops'],
      scope: 'mcp:tools  mcp:read',
      client_id: 'cli',
    };
    expect(oidcPrincipal(claims, mapping)).toEqual({
      ok: true,
      principal: {
        subject: 'u-1',
        name: 'alice@example.com',
        groups: ['eng', 'ops'],
        method: 'oidc',
        issuer: 'https://idp',
        scopes: ['mcp:tools', 'mcp:read'],
        claims,
        clientId: 'cli',
      },
    });
  });

  it.each([
    { name: 'no sub', claims: { email: 'a@b' }, reason: /sub/ },
    { name: 'no username claim', claims: { sub: 'u' }, reason: /'email'/ },
    { name: 'username claim not a string', claims: { sub: 'u', email: ['a'] }, reason: /'email'/ },
  ])('refuses $name', ({ claims, reason }) => {
    const result = oidcPrincipal(claims, mapping);
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.reason).toMatch(reason);
  });
});

describe('scopesOf / missingScopes', () => {
  it.each([
    { claims: { scope: 'a b' }, scopes: ['a', 'b'] },
    { claims: { scp: ['a', 'b'] }, scopes: ['a', 'b'] },
    { claims: { scp: 'a' }, scopes: ['a'] },
    { claims: {}, scopes: [] },
  ])('$claims', ({ claims, scopes }) => {
    expect(scopesOf(claims)).toEqual(scopes);
  });

  it('lists the missing ones', () => {
    expect(missingScopes(['a'], ['a', 'b', 'c'])).toEqual(['b', 'c']);
    expect(missingScopes(['a', 'b'], [])).toEqual([]);
  });
});

describe('serviceAccountPrincipal', () => {
  const sa = {
    iss: 'https://kubernetes.default.svc',
    sub: 'system:serviceaccount:ci:release-bot',
    'kubernetes.io': { namespace: 'ci', serviceaccount: { name: 'release-bot', uid: 'x' } },
  };

  it('maps subject, groups and the service account', () => {
    const result = serviceAccountPrincipal(sa);
    expect(result.ok && result.principal).toMatchObject({
      subject: 'system:serviceaccount:ci:release-bot',
      name: 'system:serviceaccount:ci:release-bot',
      groups: ['system:serviceaccounts', 'system:serviceaccounts:ci'],
      method: 'service-account',
      serviceAccount: { namespace: 'ci', name: 'release-bot' },
      issuer: 'https://kubernetes.default.svc',
    });
  });

  it.each([
    { name: 'a user sub', claims: { ...sa, sub: 'alice' } },
    {
      name: 'kubernetes.io namespace disagreeing with sub',
      claims: { ...sa, 'kubernetes.io': { namespace: 'prod', serviceaccount: { name: 'release-bot' } } },
    },
    { name: 'extra colon in sub', claims: { ...sa, sub: 'system:serviceaccount:ci:bot:x' } },
  ])('refuses $name', ({ claims }) => {
    expect(serviceAccountPrincipal(claims).ok).toBe(false);
  });
});
