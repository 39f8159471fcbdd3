import * as oauth from 'oauth4webapi';
import { issuerFetch } from '../../authn/issuer-fetch.ts';
import type { OutboundResilience } from '../../contract/upstream-auth.ts';
import { type CircuitBreaker, circuitBreaker } from '../circuit-breaker.ts';
import { CredentialError } from './credential.ts';
import { parseHeaderValue, type SecretFile, watchSecretFile } from './secret-file.ts';

// The one module that calls OAuth token endpoints (oauth4webapi builds and checks the requests
// and responses). Each call has a timeout; a call that could not connect, timed out or got a 5xx
// is retried with doubling backoff (a token request changes nothing the caller would repeat);
// an OAuth error answer (invalid_grant: a revoked or expired subject token) is final. Consecutive
// failures open a circuit breaker, so a dead endpoint costs callers nothing but a quick error.

/** OAuth errors about the subject token or what was asked for it (RFC 6749 §5.2, RFC 8693 §2.2.2). */
const CALLER_ERRORS: ReadonlySet<string> = new Set(['invalid_grant', 'invalid_target', 'invalid_scope']);

export interface TokenEndpointConfig {
  readonly tokenEndpoint: string;
  readonly issuer?: string | undefined;
  readonly clientId: string;
  readonly clientSecretFile?: string | undefined;
  readonly caFile?: string | undefined;
  readonly resilience: OutboundResilience;
}

export interface IssuedToken {
  readonly token: string;
  /** Lifetime in seconds, when the endpoint said. */
  readonly expiresIn: number | undefined;
}

export interface TokenEndpoint {
  request(grantType: string, parameters: Record<string, string>): Promise<IssuedToken>;
  close(): void;
}

export interface TokenEndpointDeps {
  readonly fetch?: typeof fetch;
  readonly onError: (err: Error) => void;
  readonly now?: () => number;
  readonly sleep?: (ms: number) => Promise<void>;
}

export function tokenEndpoint(config: TokenEndpointConfig, deps: TokenEndpointDeps): TokenEndpoint {
  const url = new URL(config.tokenEndpoint);
  const as: oauth.AuthorizationServer = {
    issuer: config.issuer ?? url.origin,
    token_endpoint: config.tokenEndpoint,
  };
  const client: oauth.Client = { client_id: config.clientId };
  const secret: SecretFile<string> | undefined =
    config.clientSecretFile === undefined
      ? undefined
      : watchSecretFile(config.clientSecretFile, parseHeaderValue, deps.onError);
  const transport = issuerFetch(config.caFile, deps.fetch ?? fetch);
  const r = config.resilience;
  const breaker: CircuitBreaker = circuitBreaker(r.breakerFailures, r.breakerCooldownMs, deps.now);
  const sleep = deps.sleep ?? ((ms: number) => new Promise<void>((res) => setTimeout(res, ms)));

  const once = async (grantType: string, parameters: Record<string, string>): Promise<IssuedToken> => {
    const auth = secret === undefined ? oauth.None() : oauth.ClientSecretBasic(secret.current());
    const options = {
      [oauth.customFetch]: transport.fetch,
      [oauth.allowInsecureRequests]: url.protocol === 'http:',
      signal: AbortSignal.timeout(r.timeoutMs),
    };
    const response = await oauth.genericTokenEndpointRequest(
      as,
      client,
      auth,
      grantType,
      parameters,
      options,
    );
    const body = await oauth.processGenericTokenEndpointResponse(as, client, response);
    return { token: body.access_token, expiresIn: body.expires_in };
  };

  return {
    async request(grantType, parameters) {
      if (!breaker.tryAcquire())
        throw new CredentialError('UNAVAILABLE', `token endpoint ${url.origin}: circuit open`);
      for (let attempt = 0; ; attempt++) {
        try {
          const issued = await once(grantType, parameters);
          breaker.success();
          return issued;
        } catch (err) {
          if (err instanceof oauth.ResponseBodyError && err.status < 500) {
            // The endpoint answered: it is alive, and the answer is final. Only a refusal of what
            // the caller brought is the caller's; invalid_client and the like are the gateway's.
            breaker.success();
            const callers = CALLER_ERRORS.has(err.error);
            throw new CredentialError(
              callers ? 'REFUSED' : 'UNAVAILABLE',
              `token endpoint refused: ${err.error}`,
              {
                cause: err,
              },
            );
          }
          if (attempt >= r.retries) {
            breaker.failure();
            throw new CredentialError('UNAVAILABLE', `token endpoint ${url.origin}: ${describe(err)}`, {
              cause: err,
            });
          }
          await sleep(r.backoffMs * 2 ** attempt);
        }
      }
    },
    close() {
      secret?.close();
      transport.close();
    },
  };
}

function describe(err: unknown): string {
  if (err instanceof oauth.ResponseBodyError) return `HTTP ${err.status} ${err.error}`;
  const e = err as { name?: string; message?: string; cause?: { code?: string } };
  if (e.name === 'TimeoutError') return 'timed out';
  return e.cause?.code ?? e.message ?? String(err);
}
