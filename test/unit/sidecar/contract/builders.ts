import type { ConfiguredRule } from '../../../../sidecar/src/contract/config.ts';
import type { AuthzRequest } from '../../../../sidecar/src/contract/decide.ts';
import type { Principal } from '../../../../sidecar/src/contract/principal.ts';

// Small builders for authorization tests: a principal, a rule and a request, each with defaults
// that a case overrides only where it matters.

export function principal(overrides: Partial<Principal> = {}): Principal {
  return {
    subject: 'user-1',
    name: 'alice@example.com',
    groups: [],
    method: 'oidc',
    issuer: 'https://idp.example.com',
    scopes: [],
    claims: {},
    ...overrides,
  };
}

export const alice = principal();
export const bob = principal({ subject: 'user-2', name: 'bob@example.com', groups: ['engineering'] });
export const releaseBot = principal({
  subject: 'system:serviceaccount:ci:release-bot',
  name: 'system:serviceaccount:ci:release-bot',
  groups: ['system:serviceaccounts', 'system:serviceaccounts:ci'],
  method: 'service-account',
  serviceAccount: { namespace: 'ci', name: 'release-bot' },
});
export const keyHolder = principal({
  subject: 'svc-reporting',
  name: 'svc-reporting',
  method: 'api-key',
  apiKeyId: 'reporting',
});

export function rule(overrides: Partial<ConfiguredRule> & { name: string }): ConfiguredRule {
  return { policy: 'team/policy', action: 'allow', subjects: [{ anyAuthenticated: true }], ...overrides };
}

export function call(tool: string, args?: unknown): AuthzRequest {
  return { method: 'tools/call', server: 'payments', tool, arguments: args };
}
