import { type CredentialSource, tokenHeader, type UpstreamCredential } from './credential.ts';
import { tokenCache } from './token-cache.ts';
import type { TokenEndpoint } from './token-endpoint.ts';
import type { CredentialEvent } from './token-exchange.ts';

// `clientCredentials` (RFC 6749 §4.4): the server's own OAuth client, one token for every caller,
// cached until shortly before it expires (concurrent callers share one request).

export interface ClientCredentialsConfig {
  readonly clientId: string;
  readonly audience?: string | undefined;
  readonly resource?: string | undefined;
  readonly scope?: string | undefined;
  readonly header: string;
  readonly refreshBeforeExpirySeconds: number;
}

export function clientCredentialsSource(
  config: ClientCredentialsConfig,
  endpoint: TokenEndpoint,
  onEvent: (event: CredentialEvent) => void,
  now: () => number = Date.now,
): CredentialSource {
  const cache = tokenCache(1, now);
  const id = `client-credentials:${config.clientId}`;
  const params: Record<string, string> = {};
  if (config.audience !== undefined) params.audience = config.audience;
  if (config.resource !== undefined) params.resource = config.resource;
  if (config.scope !== undefined) params.scope = config.scope;
  return {
    mode: 'clientCredentials',
    async credentialFor(): Promise<UpstreamCredential> {
      const { token, hit } = await cache.get('client', async () => {
        const issued = await endpoint.request('client_credentials', params);
        const expiresAt = issued.expiresIn === undefined ? 0 : now() + issued.expiresIn * 1000;
        return { token: issued.token, refreshAt: expiresAt - config.refreshBeforeExpirySeconds * 1000 };
      });
      onEvent(hit ? 'cache_hit' : 'issued');
      return { id, headers: tokenHeader(config.header, token) };
    },
    close: () => endpoint.close(),
  };
}
