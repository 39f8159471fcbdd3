import type { SidecarConfig } from '../../../../sidecar/src/contract/config.ts';

// Builders for the authentication section, with the schema's defaults filled in.

export type AuthenticationConfig = SidecarConfig['authentication'];
type Oidc = NonNullable<AuthenticationConfig['oidc']>[number];

export const CANONICAL_URI = 'http://127.0.0.1:8080/mcp';
export const METADATA_URL = 'http://127.0.0.1:8080/.well-known/oauth-protected-resource/mcp';

export function oidc(issuer: string, overrides: Partial<Oidc> = {}): Oidc {
  return {
    issuer,
    algorithms: ['RS256', 'ES256', 'PS256', 'EdDSA'],
    clockSkewSeconds: 30,
    usernameClaim: 'sub',
    groupsClaim: 'groups',
    ...overrides,
  };
}

export function authentication(overrides: Partial<AuthenticationConfig> = {}): AuthenticationConfig {
  return { allowAnonymous: false, ...overrides };
}

/** A fetch that counts requests per path, to show when keys are (re)fetched. */
export function countingFetch(): { fetch: typeof fetch; count(pathSuffix: string): number } {
  const seen: string[] = [];
  return {
    fetch: (input, init) => {
      seen.push(new URL(input instanceof Request ? input.url : String(input)).pathname);
      return fetch(input, init);
    },
    count: (suffix) => seen.filter((p) => p.endsWith(suffix)).length,
  };
}
