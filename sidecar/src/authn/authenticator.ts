import { decodeJwt } from 'jose';
import type { Logger } from 'pino';
import { missingScopes, oidcPrincipal, serviceAccountPrincipal } from '../contract/claims.ts';
import type { SidecarConfig } from '../contract/config.ts';
import { ANONYMOUS_PRINCIPAL, type Principal } from '../contract/principal.ts';
import { readApiKeyFile, watchApiKeyFile } from './api-key-file.ts';
import { compileApiKeys } from './api-keys.ts';
import { readCredential } from './credentials.ts';
import { AuthnError, type AuthnErrorCode, createChallenge } from './errors.ts';
import { DEFAULT_JWKS_TUNING, type JwksTuning } from './jwt-verifier.ts';
import {
  metadataLocation,
  type ProtectedResourceMetadata,
  protectedResourceMetadata,
} from './protected-resource-metadata.ts';
import { createTokenCache, type TokenCacheOptions } from './token-cache.ts';
import { compileTrustedIssuers } from './trusted-issuers.ts';

// Wiring of the authentication stage: compile the configuration once (verifiers per issuer, API key
// digests, the challenge header), then authenticate each request with no further set-up.

export type AuthResult = { ok: true; principal: Principal } | { ok: false; error: AuthnError };

export interface AuthnRequest {
  authorization?: string;
  /** The X-API-Key header. */
  apiKey?: string;
  /** A credential header the request carried more than once (see repeatedCredentialHeader). */
  repeated?: 'Authorization' | 'X-API-Key';
}

export interface Authenticator {
  authenticate(req: AuthnRequest): Promise<AuthResult>;
  /** RFC 9728 document and where to serve it (paths) and advertise it (url). */
  readonly protectedResource: { url: string; paths: readonly string[]; document: ProtectedResourceMetadata };
  /** Fetch discovery documents and keys ahead of the first request; failures are logged, not thrown. */
  warm(): Promise<void>;
  close(): void;
}

export interface AuthenticatorDeps {
  /** This server's RFC 8707 resource identifier: the default audience. */
  canonicalUri: string;
  fetch?: typeof fetch;
  now?: () => Date;
  logger?: Logger;
  /** JWKS cache tuning (tests shorten the cooldown). */
  jwks?: Partial<JwksTuning>;
  /** Optional resource_name for the metadata document. */
  resourceName?: string;
  /** How often apiKeysFile is checked for changes (default 2 s). */
  apiKeysFilePollMs?: number;
  /** Verified-token cache; maxEntries 0 turns it off. */
  tokenCache?: Partial<Pick<TokenCacheOptions, 'maxEntries' | 'maxAgeMs'>>;
}

type AuthenticationConfig = SidecarConfig['authentication'];

export function createAuthenticator(cfg: AuthenticationConfig, deps: AuthenticatorDeps): Authenticator {
  const now = deps.now ?? (() => new Date());
  const requiredScopes = cfg.requiredScopes ?? [];
  const location = metadataLocation(deps.canonicalUri);
  const challenge = createChallenge(location.url, requiredScopes);
  const cache = createTokenCache({ maxEntries: 5_000, maxAgeMs: 60_000, ...deps.tokenCache, now });
  const issuers = compileTrustedIssuers(cfg, {
    canonicalUri: deps.canonicalUri,
    fetch: deps.fetch ?? globalThis.fetch,
    now,
    jwks: { ...DEFAULT_JWKS_TUNING, ...deps.jwks },
    onKeysFetched: () => cache.clear(),
  });
  const closers: (() => void)[] = [issuers.close];

  // API keys: inline ones plus, when configured, a file that is watched for changes.
  let keys = compileApiKeys(cfg.apiKeys ?? []);
  if (cfg.apiKeysFile) {
    const file = cfg.apiKeysFile;
    const fixed = cfg.apiKeys ?? [];
    keys = compileApiKeys([...fixed, ...readApiKeyFile(file)]);
    const watch = watchApiKeyFile(
      file,
      (fromFile) => {
        keys = compileApiKeys([...fixed, ...fromFile]);
        deps.logger?.info({ file, keys: keys.size }, 'API keys reloaded');
      },
      (err) =>
        deps.logger?.error({ file, err: err.message }, 'API key file refused; keeping the last good keys'),
      deps.apiKeysFilePollMs,
    );
    closers.push(watch.close);
  }

  const fail = (code: AuthnErrorCode, detail: string): AuthResult => ({
    ok: false,
    error: new AuthnError(code, detail, challenge),
  });

  const authenticateJwt = async (token: string): Promise<AuthResult> => {
    const cached = cache.get(token);
    if (cached !== undefined) return { ok: true, principal: cached };
    let iss: unknown;
    try {
      iss = decodeJwt(token).iss;
    } catch (err) {
      return fail('malformed_token', (err as Error).message);
    }
    const trusted = typeof iss === 'string' ? issuers.byIssuer.get(iss) : undefined;
    if (trusted === undefined)
      return fail('untrusted_issuer', `issuer ${JSON.stringify(iss)?.slice(0, 200)} is not trusted`);
    const verified = await trusted.verifier.verify(token);
    if (!verified.ok) {
      if (verified.code === 'issuer_unavailable') {
        deps.logger?.warn(
          { issuer: trusted.verifier.issuer, detail: verified.detail },
          'token issuer unavailable',
        );
      }
      return fail(verified.code, verified.detail);
    }
    if (trusted.kind === 'service-account') {
      const mapped = serviceAccountPrincipal(verified.claims);
      if (!mapped.ok) return fail('invalid_claims', mapped.reason);
      cache.set(token, mapped.principal, verified.claims.exp);
      return mapped;
    }
    const mapped = oidcPrincipal(verified.claims, trusted);
    if (!mapped.ok) return fail('invalid_claims', mapped.reason);
    const missing = missingScopes(mapped.principal.scopes, requiredScopes);
    if (missing.length > 0) return fail('insufficient_scope', `token lacks scope(s): ${missing.join(' ')}`);
    cache.set(token, mapped.principal, verified.claims.exp);
    return mapped;
  };

  return {
    protectedResource: {
      url: location.url,
      paths: location.paths,
      document: protectedResourceMetadata({
        canonicalUri: deps.canonicalUri,
        authorizationServers: cfg.authorizationServers,
        oidcIssuers: (cfg.oidc ?? []).map((o) => o.issuer),
        requiredScopes,
        resourceName: deps.resourceName,
      }),
    },

    async authenticate(req) {
      // Details go to the audit: they name what was wrong, never a character of the credential.
      if (req.repeated !== undefined)
        return fail('repeated_credentials', `${req.repeated} header sent more than once`);
      const cred = readCredential(req.authorization, req.apiKey);
      switch (cred.kind) {
        case 'none':
          return cfg.allowAnonymous
            ? { ok: true, principal: ANONYMOUS_PRINCIPAL }
            : fail('missing_credentials', 'no Authorization or X-API-Key header');
        case 'unsupported-scheme':
          return fail(
            'unsupported_scheme',
            cred.scheme === undefined
              ? 'Authorization does not use the Bearer scheme (its scheme is not a registered one, so not shown)'
              : `Authorization uses the ${cred.scheme} scheme, not Bearer`,
          );
        case 'empty-bearer':
          return fail('malformed_token', 'Authorization names the Bearer scheme but carries no token');
        case 'too-large':
          return fail('token_too_large', `credential of ${cred.bytes} bytes exceeds the limit`);
        case 'api-key': {
          const principal = keys.find(cred.key);
          if (principal) return { ok: true, principal };
          return cred.from === 'bearer' && keys.size === 0
            ? fail('malformed_token', 'bearer credential is not a JWT and no API keys are configured')
            : fail('invalid_api_key', `API key (from ${cred.from}) matches no configured key`);
        }
        case 'jwt':
          return authenticateJwt(cred.token);
      }
    },

    async warm() {
      await Promise.all(
        [...issuers.byIssuer.values()].map((t) =>
          t.verifier.warm().catch((err: unknown) => {
            deps.logger?.warn(
              { issuer: t.verifier.issuer, err: (err as Error).message },
              'could not prefetch issuer keys',
            );
          }),
        ),
      );
    },

    close() {
      cache.clear();
      for (const c of closers.splice(0)) c();
    },
  };
}
