import { ANONYMOUS_PRINCIPAL } from '../contract/index.ts';
import type { CredentialSource } from '../upstream/credentials/credential.ts';

// The headers of the sidecar's own session to the upstream (pinning's reads of the lists): the
// configured static headers, and the credential of upstream.auth where it is the server's own, not a
// caller's: `headers` (from a Secret) and `clientCredentials` (the gateway's token). `perPrincipal`
// and `tokenExchange` credentials belong to callers, and the sidecar never borrows one: behind them
// the sidecar reads with the static headers only, and a server that refuses that is judged in the
// replies to callers alone (docs/pinning.md).

export function ownHeaders(
  staticHeaders: Readonly<Record<string, string>>,
  credentials: () => CredentialSource | undefined,
): () => Promise<Record<string, string>> {
  return async () => {
    const source = credentials();
    if (source === undefined || (source.mode !== 'headers' && source.mode !== 'clientCredentials'))
      return { ...staticHeaders };
    // Neither mode reads the principal: it is the server's own credential.
    const own = await source.credentialFor({ principal: ANONYMOUS_PRINCIPAL, subjectToken: undefined });
    return { ...staticHeaders, ...own.headers };
  };
}
