import {
  oidcPrincipal,
  type Principal,
  type SidecarConfig,
  serviceAccountPrincipal,
} from '../../../../sidecar/src/contract/index.ts';

// The caller a simulation asks about, built the way the sidecar's authenticator builds it from a
// verified credential: the same claim mapping functions, with the identity provider's own
// usernameClaim and groupsClaim from the server's rendered configuration, and an API key's configured
// subject and groups. So a `user:`, `group:`, `serviceAccount:`, `apiKey:` or `claim:` subject, and a
// condition on `principal.subject`, match the simulated caller exactly when they would match the
// real one.

export interface SimulatedCaller {
  /** Username (`user:` subjects); `system:serviceaccount:NS:NAME` for a ServiceAccount. Optional with apiKey. */
  user?: string;
  groups?: readonly string[];
  /** The caller holds this API key (by id): its subject and groups are the key's. */
  apiKey?: string;
  /** Token claims (OIDC callers), for `claim:` subjects and CEL conditions; `sub` defaults to user. */
  claims?: Readonly<Record<string, unknown>>;
  /** Which identity provider issued the token (its claim mapping applies); default the first one. */
  issuer?: string;
}

const SA_PREFIX = 'system:serviceaccount:';
const DEFAULT_MAPPING = { usernameClaim: 'sub', groupsClaim: 'groups' };

/**
 * `authentication`: the server's rendered section (can-i); absent offline (policy test), where the
 * defaults apply: username = sub, groups = groups, API keys as the case describes them.
 */
export function simulatedPrincipal(
  caller: SimulatedCaller,
  authentication?: SidecarConfig['authentication'],
): Principal {
  if (caller.apiKey !== undefined) return apiKeyPrincipal(caller, caller.apiKey, authentication);
  const user = caller.user;
  if (user === undefined || user === '') throw new Error('name the caller (--as USER) or its API key');
  if (user.startsWith(SA_PREFIX)) {
    const mapped = serviceAccountPrincipal({ ...caller.claims, sub: user, iss: caller.issuer });
    if (!mapped.ok) throw new Error(`'${user}': ${mapped.reason}`);
    return { ...mapped.principal, groups: [...mapped.principal.groups, ...(caller.groups ?? [])] };
  }
  const providers = authentication?.oidc ?? [];
  const provider =
    caller.issuer === undefined ? providers[0] : providers.find((p) => p.issuer === caller.issuer);
  if (caller.issuer !== undefined && authentication !== undefined && provider === undefined) {
    throw new Error(`the server trusts no identity provider with issuer ${caller.issuer}`);
  }
  const mapping = provider ?? DEFAULT_MAPPING;
  // What the caller gave wins; --as fills the username claim, and sub when none was given.
  const claims: Record<string, unknown> = {
    sub: user,
    ...(caller.groups !== undefined ? { [mapping.groupsClaim]: caller.groups } : {}),
    [mapping.usernameClaim]: user,
    ...caller.claims,
  };
  const issuer = caller.issuer ?? provider?.issuer;
  if (issuer !== undefined) claims.iss = issuer;
  const mapped = oidcPrincipal(claims, mapping);
  if (!mapped.ok) throw new Error(`'${user}': ${mapped.reason}`);
  return mapped.principal;
}

function apiKeyPrincipal(
  caller: SimulatedCaller,
  id: string,
  authentication: SidecarConfig['authentication'] | undefined,
): Principal {
  const key = authentication?.apiKeys?.find((k) => k.id === id);
  // Keys in a file (a Secret on Kubernetes) are not in the configuration: the caller says who holds it.
  const subject = key?.subject ?? caller.user;
  if (subject === undefined) {
    throw new Error(
      `API key ${id} is not in the server's configuration (a keys file): give its subject with --as`,
    );
  }
  if (key !== undefined && caller.user !== undefined && caller.user !== key.subject) {
    throw new Error(`API key ${id} belongs to ${key.subject}, not ${caller.user}`);
  }
  return {
    subject,
    name: subject,
    groups: [...(key?.groups ?? caller.groups ?? [])],
    method: 'api-key',
    apiKeyId: id,
    scopes: [],
    claims: {},
  };
}
