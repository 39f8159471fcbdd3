import { describe, expect, it } from 'vitest';
import type { ConfiguredRule } from '../../../../sidecar/src/contract/config.ts';
import { type AuthzRequest, decide } from '../../../../sidecar/src/contract/decide.ts';
import { compilePolicy } from '../../../../sidecar/src/contract/policy.ts';
import { ANONYMOUS_PRINCIPAL, type Principal } from '../../../../sidecar/src/contract/principal.ts';
import { alice, bob, call, keyHolder, principal, releaseBot, rule } from './builders.ts';

interface Case {
  name: string;
  rules: ConfiguredRule[];
  principal: Principal;
  request: AuthzRequest;
  effect: 'allow' | 'deny';
  rule?: string;
  reason?: RegExp;
}

const listen = (resourceSubscriptions?: string[]): AuthzRequest => ({
  method: 'subscriptions/listen',
  server: 'github',
  ...(resourceSubscriptions ? { subscriptions: resourceSubscriptions } : {}),
});

const cases: Case[] = [
  {
    name: 'subscriptions/listen to resources the caller may use is allowed',
    rules: [rule({ name: 'repos', resources: ['repo://acme/*'] })],
    principal: alice,
    request: listen(['repo://acme/a', 'repo://acme/b']),
    effect: 'allow',
  },
  {
    name: 'subscriptions/listen is denied when one resource is not allowed',
    rules: [rule({ name: 'repos', resources: ['repo://acme/*'] })],
    principal: alice,
    request: listen(['repo://acme/a', 'repo://other/b']),
    effect: 'deny',
    reason: /no rule allows this caller to use this resource/,
  },
  {
    name: 'subscriptions/listen to list changes only needs no resource decision',
    rules: [],
    principal: alice,
    request: listen([]),
    effect: 'allow',
  },
  {
    name: 'a malformed subscriptions/listen is denied',
    rules: [rule({ name: 'repos', resources: ['*'] })],
    principal: alice,
    request: listen(),
    effect: 'deny',
    reason: /malformed/,
  },
  {
    name: 'server/discover is open',
    rules: [],
    principal: alice,
    request: { method: 'server/discover', server: 'github' },
    effect: 'allow',
  },
  {
    name: 'allow rule matching user and tool allows',
    rules: [rule({ name: 'alice-search', subjects: [{ user: 'alice@example.com' }], tools: ['search'] })],
    principal: alice,
    request: call('search'),
    effect: 'allow',
    rule: 'alice-search',
    reason: /allowed by rule alice-search of policy team\/policy/,
  },
  {
    name: 'no rules: default deny',
    rules: [],
    principal: alice,
    request: call('search'),
    effect: 'deny',
    reason: /no rule allows/,
  },
  {
    name: 'allow for another user: default deny',
    rules: [rule({ name: 'bob-only', subjects: [{ user: 'bob@example.com' }], tools: ['*'] })],
    principal: alice,
    request: call('search'),
    effect: 'deny',
  },
  {
    name: 'deny wins over an allow listed first',
    rules: [
      rule({ name: 'everyone', tools: ['*'] }),
      rule({ name: 'no-delete', action: 'deny', tools: ['delete_*'] }),
    ],
    principal: alice,
    request: call('delete_repo'),
    effect: 'deny',
    rule: 'no-delete',
    reason: /denied by rule no-delete/,
  },
  {
    name: 'deny for other tools leaves the allow in force',
    rules: [
      rule({ name: 'everyone', tools: ['*'] }),
      rule({ name: 'no-delete', action: 'deny', tools: ['delete_*'] }),
    ],
    principal: alice,
    request: call('search'),
    effect: 'allow',
    rule: 'everyone',
  },
  {
    name: 'group subject matches a group member',
    rules: [rule({ name: 'eng', subjects: [{ group: 'engineering' }], tools: ['search'] })],
    principal: bob,
    request: call('search'),
    effect: 'allow',
    rule: 'eng',
  },
  {
    name: 'group subject does not match a non-member',
    rules: [rule({ name: 'eng', subjects: [{ group: 'engineering' }], tools: ['search'] })],
    principal: alice,
    request: call('search'),
    effect: 'deny',
  },
  {
    name: 'serviceAccount subject by namespace/name',
    rules: [rule({ name: 'bot', subjects: [{ serviceAccount: 'ci/release-bot' }], tools: ['release'] })],
    principal: releaseBot,
    request: call('release'),
    effect: 'allow',
  },
  {
    name: 'serviceAccount subject by namespace wildcard',
    rules: [rule({ name: 'ci', subjects: [{ serviceAccount: 'ci/*' }], tools: ['release'] })],
    principal: releaseBot,
    request: call('release'),
    effect: 'allow',
  },
  {
    name: 'serviceAccount subject does not match a user named like the account',
    rules: [rule({ name: 'bot', subjects: [{ serviceAccount: 'ci/release-bot' }], tools: ['release'] })],
    principal: principal({ name: 'system:serviceaccount:ci:release-bot' }),
    request: call('release'),
    effect: 'deny',
  },
  {
    name: 'claim subject matches a string claim',
    rules: [
      rule({ name: 'readers', subjects: [{ claim: { name: 'role', value: 'reader' } }], tools: ['get_*'] }),
    ],
    principal: principal({ claims: { role: 'reader' } }),
    request: call('get_issue'),
    effect: 'allow',
  },
  {
    name: 'claim subject matches an element of an array claim',
    rules: [
      rule({ name: 'readers', subjects: [{ claim: { name: 'roles', value: 'mcp-reader' } }], tools: ['*'] }),
    ],
    principal: principal({ claims: { roles: ['admin', 'mcp-reader'] } }),
    request: call('get_issue'),
    effect: 'allow',
  },
  {
    name: 'apiKey subject by key id',
    rules: [rule({ name: 'reporting', subjects: [{ apiKey: 'reporting' }], tools: ['report'] })],
    principal: keyHolder,
    request: call('report'),
    effect: 'allow',
  },
  {
    name: 'anyAuthenticated excludes the anonymous principal',
    rules: [rule({ name: 'everyone', tools: ['*'] })],
    principal: ANONYMOUS_PRINCIPAL,
    request: call('search'),
    effect: 'deny',
  },
  {
    name: "glob '?' matches exactly one character",
    rules: [rule({ name: 'v', tools: ['tool_v?'] })],
    principal: alice,
    request: call('tool_v10'),
    effect: 'deny',
  },
  {
    name: 'glob characters other than * and ? are literal',
    rules: [rule({ name: 'dot', tools: ['a.b'] })],
    principal: alice,
    request: call('axb'),
    effect: 'deny',
  },
  {
    name: 'resource glob over URIs',
    rules: [rule({ name: 'acme', resources: ['repo://acme/*'] })],
    principal: alice,
    request: { method: 'resources/read', server: 's', resource: 'repo://acme/widgets/README.md' },
    effect: 'allow',
  },
  {
    name: 'a rule without resource patterns covers no resource',
    rules: [rule({ name: 'tools-only', tools: ['*'] })],
    principal: alice,
    request: { method: 'resources/read', server: 's', resource: 'repo://acme/x' },
    effect: 'deny',
  },
  {
    name: 'prompt decision',
    rules: [rule({ name: 'p', prompts: ['summarize'] })],
    principal: alice,
    request: { method: 'prompts/get', server: 's', prompt: 'summarize' },
    effect: 'allow',
  },
  {
    name: 'completion on a prompt ref is decided on the prompt',
    rules: [rule({ name: 'p', prompts: ['summarize'] })],
    principal: alice,
    request: { method: 'completion/complete', server: 's', prompt: 'other' },
    effect: 'deny',
  },
  {
    name: 'CEL over arguments: true allows',
    rules: [rule({ name: 'acme-only', tools: ['search'], when: 'arguments.owner == "acme"' })],
    principal: alice,
    request: call('search', { owner: 'acme' }),
    effect: 'allow',
  },
  {
    name: 'CEL over arguments: false does not allow',
    rules: [rule({ name: 'acme-only', tools: ['search'], when: 'arguments.owner == "acme"' })],
    principal: alice,
    request: call('search', { owner: 'evil' }),
    effect: 'deny',
  },
  {
    name: 'CEL over numeric arguments',
    rules: [rule({ name: 'small', tools: ['pay'], when: 'arguments.amount <= 100' })],
    principal: alice,
    request: call('pay', { amount: 42 }),
    effect: 'allow',
  },
  {
    name: 'CEL over the principal',
    rules: [
      rule({
        name: 'mfa',
        tools: ['*'],
        when: 'principal.claims.acr == "mfa" && "engineering" in principal.groups',
      }),
    ],
    principal: principal({ groups: ['engineering'], claims: { acr: 'mfa' } }),
    request: call('search'),
    effect: 'allow',
  },
  {
    name: 'CEL over server, method and tool',
    rules: [
      rule({
        name: 'ctx',
        tools: ['*'],
        when: 'server == "payments" && method == "tools/call" && tool.startsWith("get")',
      }),
    ],
    principal: alice,
    request: call('get_balance'),
    effect: 'allow',
  },
  {
    name: 'CEL error on an allow rule: the rule does not match',
    rules: [rule({ name: 'acme-only', tools: ['search'], when: 'arguments.owner == "acme"' })],
    principal: alice,
    request: call('search', {}),
    effect: 'deny',
    reason: /no rule allows/,
  },
  {
    name: 'CEL error on a deny rule: the rule matches (fail closed)',
    rules: [
      rule({ name: 'everyone', tools: ['*'] }),
      rule({ name: 'no-prod', action: 'deny', tools: ['*'], when: 'arguments.env == "prod"' }),
    ],
    principal: alice,
    request: call('deploy', { other: 1 }),
    effect: 'deny',
    rule: 'no-prod',
    reason: /condition could not be evaluated/,
  },
  {
    name: 'a deny rule whose condition is false does not deny',
    rules: [
      rule({ name: 'everyone', tools: ['*'] }),
      rule({ name: 'no-prod', action: 'deny', tools: ['*'], when: 'arguments.env == "prod"' }),
    ],
    principal: alice,
    request: call('deploy', { env: 'dev' }),
    effect: 'allow',
  },
  {
    name: 'unknown method is denied even with allow-all rules',
    rules: [rule({ name: 'everyone', tools: ['*'], resources: ['*'], prompts: ['*'] })],
    principal: alice,
    request: { method: 'sampling/createMessage', server: 's' },
    effect: 'deny',
    reason: /not allowed/,
  },
  {
    name: 'initialize needs no rule',
    rules: [],
    principal: alice,
    request: { method: 'initialize', server: 's' },
    effect: 'allow',
  },
  {
    name: 'notifications need no rule',
    rules: [],
    principal: alice,
    request: { method: 'notifications/initialized', server: 's' },
    effect: 'allow',
  },
  {
    name: 'list methods are allowed (and filtered)',
    rules: [],
    principal: alice,
    request: { method: 'tools/list', server: 's' },
    effect: 'allow',
  },
  {
    name: 'an overlong name is denied before any matching',
    rules: [rule({ name: 'everyone', tools: ['*'] })],
    principal: alice,
    request: call('x'.repeat(8 * 1024 + 1)),
    effect: 'deny',
    reason: /too long/,
  },
  {
    name: 'tools/call without a tool name is denied',
    rules: [rule({ name: 'everyone', tools: ['*'] })],
    principal: alice,
    request: { method: 'tools/call', server: 's' },
    effect: 'deny',
    reason: /names no tool/,
  },
];

describe('decide', () => {
  it.each(cases)('$name', (c) => {
    const decision = decide(compilePolicy(c.rules), c.principal, c.request);
    expect(decision.effect).toBe(c.effect);
    if (c.rule !== undefined) expect(decision.rule).toEqual({ policy: 'team/policy', name: c.rule });
    else if (c.effect === 'deny') expect(decision.rule?.name).toBeUndefined();
    if (c.reason) expect(decision.reason).toMatch(c.reason);
  });

  it('returns the same frozen decision object for repeated requests (no per-request allocation)', () => {
    const policy = compilePolicy([rule({ name: 'everyone', tools: ['*'] })]);
    const first = decide(policy, alice, call('a'));
    expect(decide(policy, bob, call('b'))).toBe(first);
    expect(Object.isFrozen(first)).toBe(true);
  });
});
