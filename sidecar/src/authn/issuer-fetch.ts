import { readFileSync } from 'node:fs';
import { Agent, fetch as undiciFetch } from 'undici';

// The fetch used for discovery and JWKS: the injected one, or, when a CA bundle is configured, an
// undici fetch whose TLS trusts exactly that bundle (the in-cluster API server's CA, a private IdP).
// Read at configuration load; the returned close() releases the connection pool.

/**
 * undici's own fetch, the default where none is injected: the upstream pool loads this package
 * anyway, while Node's global fetch is a second, bundled copy of undici (about 5 MiB of heap).
 */
export const packageFetch = undiciFetch as unknown as typeof fetch;

export interface IssuerFetch {
  fetch: typeof fetch;
  close(): void;
}

export function issuerFetch(caFile: string | undefined, fallback: typeof fetch): IssuerFetch {
  if (caFile === undefined) return { fetch: fallback, close() {} };
  const agent = new Agent({ connect: { ca: readFileSync(caFile, 'utf8') } });
  const withCa = ((input: Parameters<typeof undiciFetch>[0], init?: Parameters<typeof undiciFetch>[1]) =>
    undiciFetch(input, { ...init, dispatcher: agent })) as unknown as typeof fetch;
  return {
    fetch: withCa,
    close() {
      void agent.close();
    },
  };
}

/**
 * Authorization header from a token file, re-read on every use: projected service-account tokens
 * are rotated by the kubelet, and discovery/JWKS fetches are rare enough not to cache it.
 */
export function bearerFromFile(tokenFile: string | undefined): (() => Record<string, string>) | undefined {
  if (tokenFile === undefined) return undefined;
  return () => ({ authorization: `Bearer ${readFileSync(tokenFile, 'utf8').trim()}` });
}
