import Value from 'typebox/value';
import { OutboundResilience, type UpstreamAuth } from '../../contract/upstream-auth.ts';
import { clientCredentialsSource } from './client-credentials.ts';
import { CredentialError, type CredentialErrorCode, type CredentialSource } from './credential.ts';
import { perPrincipalSource } from './per-principal.ts';
import { staticHeadersSource } from './static-headers.ts';
import { tokenEndpoint } from './token-endpoint.ts';
import { type CredentialEvent, tokenExchangeSource } from './token-exchange.ts';

// Builds the credential source an `upstream.auth` section describes, and reports every outcome
// (a bounded set: the `result` label of portcullis_sidecar_upstream_credentials_total).

export type CredentialResult = 'resolved' | CredentialEvent | Lowercase<CredentialErrorCode>;

export interface CredentialSourceDeps {
  readonly fetch?: typeof fetch;
  /** A Secret file that became unreadable or invalid (the last good value stays in force). */
  readonly onFileError: (err: Error) => void;
  readonly onResult: (mode: CredentialSource['mode'], result: CredentialResult) => void;
  readonly now?: () => number;
}

export function createCredentialSource(auth: UpstreamAuth, deps: CredentialSourceDeps): CredentialSource {
  const inner = build(auth, deps);
  return {
    mode: inner.mode,
    async credentialFor(req) {
      try {
        const c = await inner.credentialFor(req);
        if (inner.mode === 'headers' || inner.mode === 'perPrincipal') deps.onResult(inner.mode, 'resolved');
        return c;
      } catch (err) {
        const code: CredentialErrorCode = err instanceof CredentialError ? err.code : 'UNAVAILABLE';
        deps.onResult(inner.mode, code.toLowerCase() as Lowercase<CredentialErrorCode>);
        throw err instanceof CredentialError
          ? err
          : new CredentialError('UNAVAILABLE', String(err), { cause: err });
      }
    },
    close: () => inner.close(),
  };
}

function build(auth: UpstreamAuth, deps: CredentialSourceDeps): CredentialSource {
  switch (auth.mode) {
    case 'headers':
      return staticHeadersSource(auth, deps.onFileError);
    case 'perPrincipal':
      return perPrincipalSource(auth.file, deps.onFileError);
    case 'tokenExchange':
    case 'clientCredentials': {
      const endpointDeps = {
        onError: deps.onFileError,
        ...(deps.fetch ? { fetch: deps.fetch } : {}),
        ...(deps.now ? { now: deps.now } : {}),
      };
      const endpoint = tokenEndpoint(
        {
          ...auth,
          resilience: Value.Default(OutboundResilience, auth.resilience ?? {}) as OutboundResilience,
        },
        endpointDeps,
      );
      const onEvent = (e: CredentialEvent) => deps.onResult(auth.mode, e);
      return auth.mode === 'tokenExchange'
        ? tokenExchangeSource(auth, endpoint, onEvent, deps.now)
        : clientCredentialsSource(auth, endpoint, onEvent, deps.now);
    }
  }
}
