import type { SidecarConfig } from '../contract/config.ts';
import { AuthnConfigError } from './errors.ts';
import { bearerFromFile, issuerFetch } from './issuer-fetch.ts';
import {
  createIssuerVerifier,
  type IssuerVerifier,
  type IssuerVerifierDeps,
  type JwksTuning,
} from './jwt-verifier.ts';

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

/** Where an issuer's keys come from, as both config sections name it. */
interface IssuerSource {
  issuer: string;
  jwksUri?: string;
  caFile?: string;
  audiences?: string[];
}

/** What this sidecar accepts from an issuer and reads from its tokens. */
interface IssuerTrust extends Omit<TrustedIssuer, 'verifier'> {
  algorithms: readonly string[];
  clockSkewSeconds: number;
  headers?: IssuerVerifierDeps['headers'];
}

export function compileTrustedIssuers(cfg: AuthenticationConfig, deps: TrustedIssuersDeps): TrustedIssuers {
  const byIssuer = new Map<string, TrustedIssuer>();
  const closers: (() => void)[] = [];

  // One verifier per issuer, with its own fetch (its own CA bundle). Service accounts come last, so
  // an issuer already present there is an OIDC one.
  const addIssuer = (path: string, source: IssuerSource, trust: IssuerTrust) => {
    if (byIssuer.has(source.issuer)) {
      const again = trust.kind === 'oidc' ? 'is listed twice' : 'is also an OIDC issuer';
      throw new AuthnConfigError(`${path}.issuer`, `issuer ${source.issuer} ${again}`);
    }
    const f = issuerFetch(source.caFile, deps.fetch);
    closers.push(f.close);
    const verifier = createIssuerVerifier(
      {
        issuer: source.issuer,
        jwksUri: source.jwksUri,
        // Audience-bound tokens only: a token minted for another audience (or, for service
        // accounts, the API server's own default audience) is refused unless configured here.
        audiences: source.audiences ?? [deps.canonicalUri],
        algorithms: trust.algorithms,
        clockSkewSeconds: trust.clockSkewSeconds,
      },
      {
        fetch: f.fetch,
        now: deps.now,
        jwks: deps.jwks,
        headers: trust.headers,
        onKeysFetched: deps.onKeysFetched,
      },
    );
    const { kind, usernameClaim, groupsClaim } = trust;
    byIssuer.set(source.issuer, { kind, verifier, usernameClaim, groupsClaim });
  };

  (cfg.oidc ?? []).forEach((o, i) => {
    const path = `authentication.oidc[${i}]`;
    checkAlgorithms(`${path}.algorithms`, o.algorithms);
    addIssuer(path, o, {
      kind: 'oidc',
      algorithms: o.algorithms,
      clockSkewSeconds: o.clockSkewSeconds,
      usernameClaim: o.usernameClaim,
      groupsClaim: o.groupsClaim,
    });
  });

  const sa = cfg.serviceAccounts;
  if (sa) {
    addIssuer('authentication.serviceAccounts', sa, {
      kind: 'service-account',
      algorithms: SERVICE_ACCOUNT_ALGORITHMS,
      clockSkewSeconds: 30,
      usernameClaim: 'sub',
      groupsClaim: 'groups',
      headers: bearerFromFile(sa.tokenFile),
    });
  }

  return {
    byIssuer,
    close() {
      for (const c of closers.splice(0)) c();
    },
  };
}
