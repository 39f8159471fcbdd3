import type { SidecarConfig } from '../contract/config.ts';
import { AuthnConfigError } from './errors.ts';
import { bearerFromFile, issuerFetch } from './issuer-fetch.ts';
import { createIssuerVerifier, type IssuerVerifier, type JwksTuning } from './jwt-verifier.ts';

// The token issuers this sidecar trusts, keyed by exact `iss`: each configured OIDC provider and the
// cluster's service-account issuer, each with its own verifier. Built once per configuration.

export interface TrustedIssuer {
  kind: 'oidc' | 'service-account';
  verifier: IssuerVerifier;
  usernameClaim: string;
  groupsClaim: string;
}

export interface TrustedIssuers {
  readonly byIssuer: ReadonlyMap<string, TrustedIssuer>;
  close(): void;
}

export interface TrustedIssuersDeps {
  canonicalUri: string;
  fetch: typeof fetch;
  now: () => Date;
  jwks: JwksTuning;
  onKeysFetched: () => void;
}

// 'none' and HMAC algorithms are never accepted: JWKS keys are public, and an HS* token "signed"
// with a public key is the classic key-confusion forgery.
const ASYMMETRIC = new Set([
  'RS256',
  'RS384',
  'RS512',
  'PS256',
  'PS384',
  'PS512',
  'ES256',
  'ES384',
  'ES512',
  'EdDSA',
  'Ed25519',
]);
// What kube-apiserver signs service-account tokens with (RSA or ECDSA keys).
const SERVICE_ACCOUNT_ALGORITHMS = ['RS256', 'RS384', 'RS512', 'ES256', 'ES384', 'ES512'];

export function checkAlgorithms(path: string, algorithms: readonly string[]): void {
  if (algorithms.length === 0) throw new AuthnConfigError(path, 'at least one algorithm is required');
  for (const alg of algorithms) {
    if (!ASYMMETRIC.has(alg)) {
      throw new AuthnConfigError(
        path,
        `algorithm '${alg}' is not allowed (only asymmetric signature algorithms)`,
      );
    }
  }
}

type AuthenticationConfig = SidecarConfig['authentication'];

export function compileTrustedIssuers(cfg: AuthenticationConfig, deps: TrustedIssuersDeps): TrustedIssuers {
  const byIssuer = new Map<string, TrustedIssuer>();
  const closers: (() => void)[] = [];
  const { now, jwks, onKeysFetched } = deps;

  (cfg.oidc ?? []).forEach((o, i) => {
    const path = `authentication.oidc[${i}]`;
    checkAlgorithms(`${path}.algorithms`, o.algorithms);
    if (byIssuer.has(o.issuer))
      throw new AuthnConfigError(`${path}.issuer`, `issuer ${o.issuer} is listed twice`);
    const f = issuerFetch(o.caFile, deps.fetch);
    closers.push(f.close);
    const verifier = createIssuerVerifier(
      {
        issuer: o.issuer,
        jwksUri: o.jwksUri,
        audiences: o.audiences ?? [deps.canonicalUri],
        algorithms: o.algorithms,
        clockSkewSeconds: o.clockSkewSeconds,
      },
      { fetch: f.fetch, now, jwks, onKeysFetched },
    );
    byIssuer.set(o.issuer, {
      kind: 'oidc',
      verifier,
      usernameClaim: o.usernameClaim,
      groupsClaim: o.groupsClaim,
    });
  });

  const sa = cfg.serviceAccounts;
  if (sa) {
    if (byIssuer.has(sa.issuer)) {
      throw new AuthnConfigError(
        'authentication.serviceAccounts.issuer',
        `issuer ${sa.issuer} is also an OIDC issuer`,
      );
    }
    const f = issuerFetch(sa.caFile, deps.fetch);
    closers.push(f.close);
    const verifier = createIssuerVerifier(
      {
        issuer: sa.issuer,
        jwksUri: sa.jwksUri,
        // Audience-bound projected tokens only: a token minted for another audience (or the
        // API server's own default audience) is refused unless configured here.
        audiences: sa.audiences ?? [deps.canonicalUri],
        algorithms: SERVICE_ACCOUNT_ALGORITHMS,
        clockSkewSeconds: 30,
      },
      { fetch: f.fetch, now, jwks, headers: bearerFromFile(sa.tokenFile), onKeysFetched },
    );
    byIssuer.set(sa.issuer, {
      kind: 'service-account',
      verifier,
      usernameClaim: 'sub',
      groupsClaim: 'groups',
    });
  }

  return {
    byIssuer,
    close() {
      for (const c of closers.splice(0)) c();
    },
  };
}
