import { createHash } from 'node:crypto';
import {
  CredentialError,
  type CredentialSource,
  tokenHeader,
  type UpstreamCredential,
} from './credential.ts';
import { tokenCache } from './token-cache.ts';
import type { TokenEndpoint } from './token-endpoint.ts';

// `tokenExchange` (RFC 8693): the caller's own token goes to the caller's identity provider as the
// subject token, with the upstream as audience; the upstream gets the token the provider issued
// for it, never the caller's. Cached per caller token (its SHA-256, so the cache holds no caller
// token), until shortly before the issued token expires and never past the caller token's own
// expiry; a caller with a new token gets a new exchange.

export const TOKEN_EXCHANGE_GRANT = 'urn:ietf:params:oauth:grant-type:token-exchange';
const ACCESS_TOKEN_TYPE = 'urn:ietf:params:oauth:token-type:access_token';

export interface TokenExchangeConfig {
  readonly audience: string;
  readonly resource?: string | undefined;
  readonly scope?: string | undefined;
  readonly requestedTokenType: string;
  readonly header: string;
  readonly refreshBeforeExpirySeconds: number;
  readonly maxCachedPrincipals: number;
}

export type CredentialEvent = 'issued' | 'cache_hit';

export function tokenExchangeSource(
  config: TokenExchangeConfig,
  endpoint: TokenEndpoint,
  onEvent: (event: CredentialEvent) => void,
  now: () => number = Date.now,
): CredentialSource {
  const cache = tokenCache(config.maxCachedPrincipals, now);
  const id = `token-exchange:${config.audience}`;
  return {
    mode: 'tokenExchange',
    async credentialFor({ principal, subjectToken }): Promise<UpstreamCredential> {
      if (subjectToken === undefined || principal.method !== 'oidc')
        throw new CredentialError(
          'NO_SUBJECT_TOKEN',
          `${principal.method} callers have no token to exchange`,
        );
      const key = createHash('sha256').update(subjectToken).digest('base64url');
      const subjectExp = typeof principal.claims.exp === 'number' ? principal.claims.exp * 1000 : Infinity;
      const { token, hit } = await cache.get(key, async () => {
        const params: Record<string, string> = {
          subject_token: subjectToken,
          subject_token_type: ACCESS_TOKEN_TYPE,
          audience: config.audience,
          requested_token_type: config.requestedTokenType,
        };
        if (config.resource !== undefined) params.resource = config.resource;
        if (config.scope !== undefined) params.scope = config.scope;
        const issued = await endpoint.request(TOKEN_EXCHANGE_GRANT, params);
        const expiresAt = issued.expiresIn === undefined ? 0 : now() + issued.expiresIn * 1000;
        return {
          token: issued.token,
          refreshAt: Math.min(expiresAt - config.refreshBeforeExpirySeconds * 1000, subjectExp),
        };
      });
      onEvent(hit ? 'cache_hit' : 'issued');
      return { id, headers: tokenHeader(config.header, token) };
    },
    close: () => endpoint.close(),
  };
}
