// Who is calling: the one shape every later stage (authorization, audit, sessions) reads. Built only
// by the authenticator from verified credentials, so nothing downstream re-checks it.

export type AuthMethod = 'oidc' | 'service-account' | 'api-key' | 'anonymous';

export interface Principal {
  /** Stable id of the caller: `sub`, `system:serviceaccount:<ns>:<name>`, an API key's subject, or `anonymous`. */
  subject: string;
  /** Username: the configured username claim (email or sub); what `user:` policy subjects match. */
  name: string;
  groups: readonly string[];
  method: AuthMethod;
  issuer?: string;
  serviceAccount?: { namespace: string; name: string };
  apiKeyId?: string;
  /** OAuth scopes granted to the token (`scope` / `scp`); empty for API keys and service accounts. */
  scopes: readonly string[];
  /** Verified token claims (empty for API keys and anonymous callers). */
  claims: Readonly<Record<string, unknown>>;
  clientId?: string;
}

/** Group every service-account principal carries, as in Kubernetes. */
export const SERVICE_ACCOUNTS_GROUP = 'system:serviceaccounts';
/** Group an unauthenticated caller carries (only when allowAnonymous is on), as in Kubernetes. */
export const UNAUTHENTICATED_GROUP = 'system:unauthenticated';

const EMPTY: Readonly<Record<string, unknown>> = Object.freeze({});

export const ANONYMOUS_PRINCIPAL: Principal = Object.freeze({
  subject: 'anonymous',
  name: 'anonymous',
  groups: Object.freeze([UNAUTHENTICATED_GROUP]),
  method: 'anonymous',
  scopes: Object.freeze([]),
  claims: EMPTY,
});
