import type { AuthnError } from '../authn/errors.ts';
import type { AuthzRequest } from '../contract/decide.ts';
import type { Decision } from '../contract/decision.ts';
import type { Principal } from '../contract/principal.ts';

// The pipeline's view of authentication and authorization: narrow ports the runtime fills from the
// authn and authz modules, so the proxy never depends on how they decide.

export interface CredentialInput {
  authorization?: string | undefined;
  apiKey?: string | undefined;
  repeated?: 'Authorization' | 'X-API-Key' | undefined;
}

export type AuthnResult = { ok: true; principal: Principal } | { ok: false; error: AuthnError };

export interface AuthenticatorPort {
  authenticate(input: CredentialInput): Promise<AuthnResult>;
}

export type { AuthzRequest } from '../contract/decide.ts';

export type { Decision } from '../contract/decision.ts';

export interface PolicyPort {
  decide(principal: Principal, request: AuthzRequest): Decision;
  /** Whether replies to this method carry a list that must be filtered for the caller. */
  filtersReplies(method: string): boolean;
  /** The list result with only what the caller may use; never throws. */
  filterResult(principal: Principal, method: string, result: unknown): unknown;
}

/** Identity a session is bound to: same issuer and subject, same principal. */
export function principalKey(p: Principal): string {
  return `${p.method}\u0000${p.issuer ?? ''}\u0000${p.subject}`;
}
