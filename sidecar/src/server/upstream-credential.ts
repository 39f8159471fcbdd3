import { readCredential } from '../authn/credentials.ts';
import { ProxyError } from '../errors.ts';
import type { Exchange } from '../pipeline/exchange.ts';
import { CredentialError } from '../upstream/credentials/index.ts';

// The forward step's credential: adds the caller's upstream credential (upstream.auth) to the
// headers of one upstream request and names it on the exchange's audit records. When there is
// none, the error returned is answered to the caller (a JSON-RPC error with the request's id) and
// nothing reaches the upstream.

/** Undefined when the headers carry the credential (or none is configured); else why not. */
export async function addUpstreamCredential(
  ex: Exchange,
  headers: Record<string, string>,
): Promise<ProxyError | undefined> {
  const source = ex.runtime.credentials;
  if (source === undefined) return undefined;
  if (ex.principal === undefined)
    return new ProxyError('UPSTREAM_CREDENTIAL_MISSING', 'no authenticated caller');
  try {
    const credential = await source.credentialFor({
      principal: ex.principal,
      subjectToken: verifiedToken(ex),
    });
    Object.assign(headers, credential.headers);
    const named = { mode: source.mode, id: credential.id };
    for (const m of ex.messages) m.record.upstreamCredential = named;
    return undefined;
  } catch (err) {
    const code =
      err instanceof CredentialError && err.code !== 'UNAVAILABLE'
        ? 'UPSTREAM_CREDENTIAL_MISSING'
        : 'UPSTREAM_CREDENTIAL_UNAVAILABLE';
    return new ProxyError(code, (err as Error).message, { cause: err });
  }
}

/** The token the authenticator verified, read the way it read it (never a second interpretation). */
function verifiedToken(ex: Exchange): string | undefined {
  const apiKey = ex.req.headers['x-api-key'];
  const c = readCredential(ex.req.headers.authorization, typeof apiKey === 'string' ? apiKey : undefined);
  return c.kind === 'jwt' ? c.token : undefined;
}
