// OIDC discovery (and the Kubernetes service-account issuer discovery, which has the same shape):
// fetch <issuer>/.well-known/openid-configuration once, check its `issuer` matches exactly (OIDC
// Discovery §4.3, so a document cannot redirect trust elsewhere), and keep its jwks_uri. A failed
// fetch is retried, but no more often than once per `retryAfterMs`, so a down IdP is not hammered
// by every incoming request.

export interface DiscoveryDeps {
  fetch: typeof fetch;
  now: () => Date;
  timeoutMs: number;
  retryAfterMs: number;
  headers?: () => Record<string, string>;
}

export class DiscoveryError extends Error {
  override readonly name = 'DiscoveryError';
  readonly code = 'discovery_failed';
}

export function discoveryUrl(issuer: string): string {
  return `${issuer.replace(/\/+$/, '')}/.well-known/openid-configuration`;
}

/** Pure check of a discovery document; returns the JWKS URI or throws DiscoveryError. */
export function jwksUriFromDiscovery(issuer: string, doc: unknown): string {
  if (typeof doc !== 'object' || doc === null)
    throw new DiscoveryError('discovery document is not a JSON object');
  const d = doc as { issuer?: unknown; jwks_uri?: unknown };
  if (d.issuer !== issuer) {
    throw new DiscoveryError(
      `discovery document issuer ${JSON.stringify(d.issuer)} does not match ${issuer}`,
    );
  }
  if (typeof d.jwks_uri !== 'string' || !/^https?:\/\//.test(d.jwks_uri)) {
    throw new DiscoveryError('discovery document has no http(s) jwks_uri');
  }
  return d.jwks_uri;
}

/** Resolves the JWKS URI lazily; concurrent callers share one fetch. */
export function createJwksUriResolver(issuer: string, deps: DiscoveryDeps): () => Promise<string> {
  let resolved: string | undefined;
  let inflight: Promise<string> | undefined;
  let lastFailure: { at: number; error: DiscoveryError } | undefined;

  const load = async (): Promise<string> => {
    const url = discoveryUrl(issuer);
    let res: Response;
    try {
      res = await deps.fetch(url, {
        headers: { accept: 'application/json', ...deps.headers?.() },
        redirect: 'manual',
        signal: AbortSignal.timeout(deps.timeoutMs),
      });
    } catch (cause) {
      throw new DiscoveryError(`GET ${url} failed: ${(cause as Error).message}`, { cause });
    }
    if (res.status !== 200) {
      await res.body?.cancel();
      throw new DiscoveryError(`GET ${url} answered HTTP ${res.status}`);
    }
    let doc: unknown;
    try {
      doc = await res.json();
    } catch (cause) {
      throw new DiscoveryError(`GET ${url} did not return JSON`, { cause });
    }
    return jwksUriFromDiscovery(issuer, doc);
  };

  return async () => {
    if (resolved !== undefined) return resolved;
    if (lastFailure && deps.now().getTime() - lastFailure.at < deps.retryAfterMs) throw lastFailure.error;
    inflight ??= load().then(
      (uri) => {
        resolved = uri;
        lastFailure = undefined;
        inflight = undefined;
        return uri;
      },
      (err: unknown) => {
        const error = err instanceof DiscoveryError ? err : new DiscoveryError(String(err), { cause: err });
        lastFailure = { at: deps.now().getTime(), error };
        inflight = undefined;
        throw error;
      },
    );
    return inflight;
  };
}
