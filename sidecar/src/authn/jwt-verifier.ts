import {
  createRemoteJWKSet,
  customFetch,
  decodeProtectedHeader,
  errors,
  type JWTPayload,
  type JWTVerifyGetKey,
  jwtVerify,
  type RemoteJWKSetOptions,
} from 'jose';
import { createJwksUriResolver, DiscoveryError } from './discovery.ts';
import type { AuthnErrorCode } from './errors.ts';

// One verifier per trusted issuer: discovery, a jose remote JWKS (cached, shared concurrent reloads,
// refetch on unknown kid after a cooldown), and jwtVerify with the allow-listed algorithms, exact
// issuer, audience and clock skew. Failures come back as a code + detail, never thrown.

export interface JwksTuning {
  /** Minimum time between refetches triggered by an unknown kid (jose cooldownDuration). */
  cooldownMs: number;
  /** Keys are refetched after this age even when every kid is known. */
  cacheMaxAgeMs: number;
  timeoutMs: number;
}

export const DEFAULT_JWKS_TUNING: JwksTuning = {
  cooldownMs: 30_000,
  cacheMaxAgeMs: 600_000,
  timeoutMs: 5_000,
};

export interface IssuerVerifierConfig {
  issuer: string;
  jwksUri?: string;
  audiences: readonly string[];
  algorithms: readonly string[];
  clockSkewSeconds: number;
}

export interface IssuerVerifierDeps {
  fetch: typeof fetch;
  now: () => Date;
  jwks: JwksTuning;
  /** Extra request headers for discovery and JWKS (the API server wants a bearer token). */
  headers?: () => Record<string, string>;
  /** Called after every successful JWKS download (caches of verified tokens must be dropped). */
  onKeysFetched?: () => void;
}

export type VerifyResult =
  | { ok: true; claims: JWTPayload }
  | { ok: false; code: AuthnErrorCode; detail: string };

export interface IssuerVerifier {
  readonly issuer: string;
  verify(token: string): Promise<VerifyResult>;
  /** Fetch discovery and keys now, so the first request does not pay for them. */
  warm(): Promise<void>;
}

/** Marks failures of the key source itself (network, HTTP status), as opposed to a bad token. */
class KeySourceUnavailable extends Error {
  override readonly name = 'KeySourceUnavailable';
}

/** Whether the token's protected header marks an extension critical that jose does not know (all but b64). */
function hasUnknownCritical(token: string): boolean {
  try {
    const crit = decodeProtectedHeader(token).crit;
    return Array.isArray(crit) && crit.some((p) => p !== 'b64');
  } catch {
    return false;
  }
}

/** Pure: which AuthnError a jose (or key source) failure of `token` means. */
export function classifyVerifyError(err: unknown, token: string): { code: AuthnErrorCode; detail: string } {
  if (err instanceof KeySourceUnavailable || err instanceof DiscoveryError) {
    return { code: 'issuer_unavailable', detail: err.message };
  }
  if (err instanceof errors.JWTExpired) return { code: 'expired', detail: err.message };
  if (err instanceof errors.JWTClaimValidationFailed) {
    const detail = `${err.claim}: ${err.message}`;
    switch (err.claim) {
      case 'nbf':
        return { code: 'not_yet_valid', detail };
      case 'aud':
        return { code: 'invalid_audience', detail };
      case 'iss':
        return { code: 'untrusted_issuer', detail };
      default:
        return { code: 'invalid_claims', detail };
    }
  }
  // jose says "not supported" both for an algorithm and for an unknown critical header parameter.
  if (err instanceof errors.JOSENotSupported && hasUnknownCritical(token)) {
    return { code: 'unsupported_critical_header', detail: err.message };
  }
  if (err instanceof errors.JOSEAlgNotAllowed || err instanceof errors.JOSENotSupported) {
    return { code: 'algorithm_not_allowed', detail: err.message };
  }
  if (err instanceof errors.JWKSNoMatchingKey || err instanceof errors.JWKSMultipleMatchingKeys) {
    return { code: 'unknown_key', detail: err.message };
  }
  if (err instanceof errors.JWSSignatureVerificationFailed)
    return { code: 'invalid_signature', detail: err.message };
  if (err instanceof errors.JWSInvalid || err instanceof errors.JWTInvalid) {
    return { code: 'malformed_token', detail: err.message };
  }
  if (err instanceof errors.JWKSTimeout || err instanceof errors.JWKSInvalid) {
    return { code: 'issuer_unavailable', detail: err.message };
  }
  return { code: 'invalid_token', detail: err instanceof Error ? err.message : String(err) };
}

export function createIssuerVerifier(cfg: IssuerVerifierConfig, deps: IssuerVerifierDeps): IssuerVerifier {
  const jwksUri = cfg.jwksUri
    ? async () => cfg.jwksUri as string
    : createJwksUriResolver(cfg.issuer, {
        fetch: deps.fetch,
        now: deps.now,
        timeoutMs: deps.jwks.timeoutMs,
        retryAfterMs: Math.min(deps.jwks.cooldownMs, 5_000),
        headers: deps.headers,
      });

  const jwksFetch = (url: string, init: Parameters<typeof fetch>[1]) => {
    const extra = deps.headers?.();
    if (extra && init?.headers instanceof Headers)
      for (const [k, v] of Object.entries(extra)) init.headers.set(k, v);
    return deps.fetch(url, init).then((res) => {
      // jose treats any non-200 as a generic error; mark it so it maps to "unavailable", not "bad token".
      if (res.status !== 200) throw new KeySourceUnavailable(`GET ${url} answered HTTP ${res.status}`);
      deps.onKeysFetched?.();
      return res;
    });
  };

  let remote: ReturnType<typeof createRemoteJWKSet> | undefined;
  const remoteSet = async () => {
    if (remote) return remote;
    const uri = await jwksUri();
    const options: RemoteJWKSetOptions = {
      cooldownDuration: deps.jwks.cooldownMs,
      cacheMaxAge: deps.jwks.cacheMaxAgeMs,
      timeoutDuration: deps.jwks.timeoutMs,
      [customFetch]: jwksFetch,
    };
    remote ??= createRemoteJWKSet(new URL(uri), options);
    return remote;
  };

  const getKey: JWTVerifyGetKey = async (header, token) => {
    const set = await remoteSet();
    try {
      return await set(header, token);
    } catch (err) {
      // Token-side failures pass through; anything else means the key source could not be read.
      if (
        err instanceof errors.JWKSNoMatchingKey ||
        err instanceof errors.JWKSMultipleMatchingKeys ||
        err instanceof errors.JOSENotSupported ||
        err instanceof errors.JOSEAlgNotAllowed ||
        err instanceof KeySourceUnavailable
      ) {
        throw err;
      }
      throw new KeySourceUnavailable(`JWKS for ${cfg.issuer}: ${(err as Error).message}`, { cause: err });
    }
  };

  const options = {
    issuer: cfg.issuer,
    audience: [...cfg.audiences],
    algorithms: [...cfg.algorithms],
    clockTolerance: cfg.clockSkewSeconds,
    requiredClaims: ['exp'],
  };

  return {
    issuer: cfg.issuer,
    async verify(token) {
      try {
        const { payload } = await jwtVerify(token, getKey, { ...options, currentDate: deps.now() });
        return { ok: true, claims: payload };
      } catch (err) {
        return { ok: false, ...classifyVerifyError(err, token) };
      }
    },
    async warm() {
      const set = await remoteSet();
      await set.reload();
    },
  };
}
