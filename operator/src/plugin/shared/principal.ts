import {
  oidcPrincipal,
  type Principal,
  serviceAccountPrincipal,
} from '../../../../sidecar/src/contract/index.ts';

// The caller a simulation asks about, built the way the sidecar's authenticator builds it from a
// verified credential (the same claim mapping functions), so a `user:`, `group:`, `serviceAccount:`,
// `apiKey:` or `claim:` subject matches the simulated caller exactly when it would match the real one.

export interface SimulatedCaller {
  /** Username (`user:` subjects); `system:serviceaccount:NS:NAME` for a ServiceAccount. */
  user: string;
  groups?: readonly string[];
  /** The caller holds this API key (by id); `user` is then the key's subject. */
  apiKey?: string;
  /** Extra token claims (OIDC callers), for `claim:` subjects and CEL conditions. */
  claims?: Readonly<Record<string, unknown>>;
  issuer?: string;
}

const SA_PREFIX = 'system:serviceaccount:';

export function simulatedPrincipal(caller: SimulatedCaller): Principal {
  if (caller.apiKey !== undefined) {
    return {
      subject: caller.user,
      name: caller.user,
      groups: [...(caller.groups ?? [])],
      method: 'api-key',
      apiKeyId: caller.apiKey,
      scopes: [],
      claims: {},
    };
  }
  if (caller.user.startsWith(SA_PREFIX)) {
    const mapped = serviceAccountPrincipal({ ...caller.claims, sub: caller.user, iss: caller.issuer });
    if (!mapped.ok) throw new Error(`'${caller.user}': ${mapped.reason}`);
    return { ...mapped.principal, groups: [...mapped.principal.groups, ...(caller.groups ?? [])] };
  }
  const claims: Record<string, unknown> = { ...caller.claims, sub: caller.user, groups: caller.groups ?? [] };
  if (caller.issuer !== undefined) claims.iss = caller.issuer;
  const mapped = oidcPrincipal(claims, { usernameClaim: 'sub', groupsClaim: 'groups' });
  if (!mapped.ok) throw new Error(`'${caller.user}': ${mapped.reason}`);
  return mapped.principal;
}
