import { describe, expect, it } from 'vitest';
import { AuthnConfigError } from '../../../../sidecar/src/authn/errors.ts';
import { DEFAULT_JWKS_TUNING } from '../../../../sidecar/src/authn/jwt-verifier.ts';
import { compileTrustedIssuers } from '../../../../sidecar/src/authn/trusted-issuers.ts';
import type { SidecarConfig } from '../../../../sidecar/src/contract/config.ts';

// The issuers a configuration trusts: one entry per `iss`, each with its kind and claims; an issuer
// listed twice, or named both as OIDC and as the service-account issuer, refused at its path.

type Authentication = SidecarConfig['authentication'];

const deps = {
  canonicalUri: 'https://mcp.example.test/mcp',
  fetch: () => Promise.reject(new Error('no network in unit tests')),
  now: () => new Date(0),
  jwks: DEFAULT_JWKS_TUNING,
  onKeysFetched: () => {},
};

const oidc = (issuer: string, claims: { usernameClaim?: string; groupsClaim?: string } = {}) => ({
  issuer,
  algorithms: ['RS256'],
  clockSkewSeconds: 30,
  usernameClaim: claims.usernameClaim ?? 'sub',
  groupsClaim: claims.groupsClaim ?? 'groups',
});

const serviceAccounts = (issuer: string) => ({
  issuer,
  jwksUri: `${issuer}/openid/v1/jwks`,
  tokenFile: '/var/run/secrets/kubernetes.io/serviceaccount/token',
});

function refusal(cfg: Authentication): AuthnConfigError {
  try {
    compileTrustedIssuers(cfg, deps).close();
  } catch (err) {
    if (err instanceof AuthnConfigError) return err;
    throw err;
  }
  throw new Error('the configuration was accepted');
}

describe('compileTrustedIssuers', () => {
  it('keys each OIDC provider and the service-account issuer by iss, with their kind and claims', () => {
    const trusted = compileTrustedIssuers(
      {
        allowAnonymous: false,
        oidc: [oidc('https://idp.example.test', { usernameClaim: 'email', groupsClaim: 'roles' })],
        serviceAccounts: serviceAccounts('https://kubernetes.default.svc'),
      } as Authentication,
      deps,
    );
    const summary = [...trusted.byIssuer].map(([iss, t]) => [iss, t.kind, t.usernameClaim, t.groupsClaim]);
    trusted.close();
    expect(summary).toEqual([
      ['https://idp.example.test', 'oidc', 'email', 'roles'],
      ['https://kubernetes.default.svc', 'service-account', 'sub', 'groups'],
    ]);
  });

  it.each([
    {
      name: 'an OIDC issuer listed twice',
      cfg: { oidc: [oidc('https://idp.example.test'), oidc('https://idp.example.test')] },
      path: 'authentication.oidc[1].issuer',
      message: 'issuer https://idp.example.test is listed twice',
    },
    {
      name: 'the service-account issuer also an OIDC issuer',
      cfg: {
        oidc: [oidc('https://kubernetes.default.svc')],
        serviceAccounts: serviceAccounts('https://kubernetes.default.svc'),
      },
      path: 'authentication.serviceAccounts.issuer',
      message: 'issuer https://kubernetes.default.svc is also an OIDC issuer',
    },
    {
      name: 'a symmetric algorithm',
      cfg: { oidc: [{ ...oidc('https://idp.example.test'), algorithms: ['HS256'] }] },
      path: 'authentication.oidc[0].algorithms',
      message: "algorithm 'HS256' is not allowed",
    },
  ])('refuses $name at its path', ({ cfg, path, message }) => {
    const err = refusal({ allowAnonymous: false, ...cfg } as Authentication);
    expect(err.path).toBe(path);
    expect(err.message).toContain(message);
  });
});
