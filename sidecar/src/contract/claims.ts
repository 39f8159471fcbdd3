import type { JWTPayload } from 'jose';
import type { Principal } from './principal.ts';
import { SERVICE_ACCOUNTS_GROUP } from './principal.ts';

// Pure mapping from verified claims to a Principal. Returns a reason string on failure; the caller
// turns it into an AuthnError.

export type ClaimsResult = { ok: true; principal: Principal } | { ok: false; reason: string };

export interface OidcClaimMapping {
  usernameClaim: string;
  groupsClaim: string;
}

/** OAuth scopes from `scope` (space-separated, RFC 8693/9068) or `scp` (array or string, Azure/Okta). */
export function scopesOf(claims: JWTPayload): readonly string[] {
  const scope = claims.scope ?? claims.scp;
  if (typeof scope === 'string') return scope.split(' ').filter((s) => s !== '');
  if (Array.isArray(scope)) return scope.filter((s): s is string => typeof s === 'string');
  return [];
}

/** Required scopes the token lacks; empty when all are present. */
export function missingScopes(granted: readonly string[], required: readonly string[]): string[] {
  return required.filter((s) => !granted.includes(s));
}

function groupsOf(value: unknown): readonly string[] {
  if (typeof value === 'string') return [value];
  if (Array.isArray(value)) return value.filter((g): g is string => typeof g === 'string');
  return [];
}

function clientIdOf(claims: JWTPayload): string | undefined {
  const id = claims.client_id ?? claims.azp;
  return typeof id === 'string' ? id : undefined;
}

export function oidcPrincipal(claims: JWTPayload, mapping: OidcClaimMapping): ClaimsResult {
  if (typeof claims.sub !== 'string' || claims.sub === '')
    return { ok: false, reason: 'token has no sub claim' };
  const name = claims[mapping.usernameClaim];
  if (typeof name !== 'string' || name === '') {
    return { ok: false, reason: `token has no string '${mapping.usernameClaim}' claim (usernameClaim)` };
  }
  const principal: Principal = {
    subject: claims.sub,
    name,
    groups: groupsOf(claims[mapping.groupsClaim]),
    method: 'oidc',
    scopes: scopesOf(claims),
    claims,
  };
  if (typeof claims.iss === 'string') principal.issuer = claims.iss;
  const clientId = clientIdOf(claims);
  if (clientId !== undefined) principal.clientId = clientId;
  return { ok: true, principal };
}

const SA_SUBJECT = /^system:serviceaccount:([a-z0-9]([-a-z0-9]*[a-z0-9])?):([a-z0-9]([-a-z0-9.]*[a-z0-9])?)$/;

/**
 * Kubernetes projected ServiceAccount token: `sub` is system:serviceaccount:<ns>:<name> and the
 * `kubernetes.io` claim must agree with it (a mismatch means the token is not what it claims).
 */
export function serviceAccountPrincipal(claims: JWTPayload): ClaimsResult {
  const sub = claims.sub;
  const m = typeof sub === 'string' ? SA_SUBJECT.exec(sub) : null;
  if (m === null || typeof sub !== 'string')
    return { ok: false, reason: 'sub is not system:serviceaccount:<namespace>:<name>' };
  const namespace = m[1] as string;
  const name = m[3] as string;
  const k8s = claims['kubernetes.io'] as
    | { namespace?: unknown; serviceaccount?: { name?: unknown } }
    | undefined;
  if (k8s !== undefined && (k8s.namespace !== namespace || k8s.serviceaccount?.name !== name)) {
    return { ok: false, reason: 'kubernetes.io claim does not match sub' };
  }
  const principal: Principal = {
    subject: sub,
    name: sub,
    groups: [SERVICE_ACCOUNTS_GROUP, `${SERVICE_ACCOUNTS_GROUP}:${namespace}`],
    method: 'service-account',
    serviceAccount: { namespace, name },
    scopes: [],
    claims,
  };
  if (typeof claims.iss === 'string') principal.issuer = claims.iss;
  return { ok: true, principal };
}
