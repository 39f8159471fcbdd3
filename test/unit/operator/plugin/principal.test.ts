import { describe, expect, it } from 'vitest';
import { simulatedPrincipal } from '../../../../operator/src/plugin/shared/principal.ts';
import { oidcPrincipal, serviceAccountPrincipal } from '../../../../sidecar/src/contract/index.ts';

// can-i's caller equals what the sidecar's authenticator builds from the same credential: the
// server's identity provider's claim mapping, an API key's configured subject and groups.

const authentication = {
  allowAnonymous: false,
  oidc: [
    {
      issuer: 'https://idp.example.test',
      algorithms: ['RS256'],
      clockSkewSeconds: 30,
      usernameClaim: 'email',
      groupsClaim: 'roles',
    },
  ],
  apiKeys: [{ id: 'reporting', sha256: 'a'.repeat(64), subject: 'svc-reporting', groups: ['reports'] }],
};

describe('simulatedPrincipal', () => {
  it('maps --as through the provider usernameClaim and groupsClaim; --claim sub is the subject', () => {
    const sim = simulatedPrincipal(
      { user: 'alice@example.com', groups: ['eng'], claims: { sub: 'ext-42' } },
      authentication,
    );
    const real = oidcPrincipal(
      { sub: 'ext-42', email: 'alice@example.com', roles: ['eng'], iss: 'https://idp.example.test' },
      { usernameClaim: 'email', groupsClaim: 'roles' },
    );
    expect(real.ok && sim).toEqual(real.ok && real.principal);
    expect(sim.subject).toBe('ext-42');
  });

  it('an API key is its configured subject and groups, whatever --groups says', () => {
    expect(simulatedPrincipal({ apiKey: 'reporting', groups: ['admins'] }, authentication)).toMatchObject({
      subject: 'svc-reporting',
      name: 'svc-reporting',
      groups: ['reports'],
      apiKeyId: 'reporting',
      method: 'api-key',
    });
    expect(() => simulatedPrincipal({ user: 'mallory', apiKey: 'reporting' }, authentication)).toThrow(
      'belongs to svc-reporting',
    );
    // a key kept in a file: the caller names its subject
    expect(simulatedPrincipal({ user: 'bob', apiKey: 'from-file' }, authentication).subject).toBe('bob');
  });

  it('a ServiceAccount is mapped as the sidecar maps its token', () => {
    const sim = simulatedPrincipal({ user: 'system:serviceaccount:ci:bot' }, authentication);
    const real = serviceAccountPrincipal({ sub: 'system:serviceaccount:ci:bot' });
    expect(real.ok && sim).toEqual(real.ok && real.principal);
  });

  it('refuses an issuer the server does not trust', () => {
    expect(() => simulatedPrincipal({ user: 'a', issuer: 'https://other.test' }, authentication)).toThrow(
      'no identity provider with issuer https://other.test',
    );
  });
});
