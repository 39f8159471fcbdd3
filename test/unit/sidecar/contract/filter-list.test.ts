import { describe, expect, it } from 'vitest';
import { filterListResult } from '../../../../sidecar/src/contract/filter-list.ts';
import { compilePolicy } from '../../../../sidecar/src/contract/policy.ts';
import { alice, bob, principal, rule } from './builders.ts';

const policy = compilePolicy([
  rule({ name: 'search', tools: ['search_*'], prompts: ['summarize'], resources: ['repo://acme/*'] }),
  rule({
    name: 'no-search-secrets',
    action: 'deny',
    tools: ['search_secrets'],
    resources: ['repo://acme/secret*'],
  }),
  rule({ name: 'eng-deploy', subjects: [{ group: 'engineering' }], tools: ['deploy'] }),
  rule({ name: 'small-payments', tools: ['pay'], when: 'arguments.amount <= 100' }),
  rule({ name: 'mfa-admin', tools: ['admin'], when: 'principal.claims.acr == "mfa"' }),
  rule({ name: 'no-prod-deploy', action: 'deny', tools: ['deploy'], when: 'arguments.env == "prod"' }),
]);

const tools = (...names: string[]) => names.map((name) => ({ name, inputSchema: { type: 'object' } }));

describe('filterListResult', () => {
  it.each([
    {
      name: 'tools/list keeps allowed tools and drops the rest',
      method: 'tools/list',
      who: alice,
      result: { tools: tools('search_issues', 'search_secrets', 'delete_repo', 'deploy'), nextCursor: 'c2' },
      expected: { tools: tools('search_issues'), nextCursor: 'c2' },
    },
    {
      name: 'group membership widens the list',
      method: 'tools/list',
      who: bob,
      result: { tools: tools('search_issues', 'deploy') },
      expected: { tools: tools('search_issues', 'deploy') },
    },
    {
      name: 'conditions over arguments keep the tool (decided at call time)',
      method: 'tools/list',
      who: alice,
      result: { tools: tools('pay') },
      expected: { tools: tools('pay') },
    },
    {
      name: 'conditions over the principal are evaluated (no mfa: hidden)',
      method: 'tools/list',
      who: alice,
      result: { tools: tools('admin') },
      expected: { tools: [] },
    },
    {
      name: 'conditions over the principal are evaluated (mfa: shown)',
      method: 'tools/list',
      who: principal({ claims: { acr: 'mfa' } }),
      result: { tools: tools('admin') },
      expected: { tools: tools('admin') },
    },
    {
      name: 'prompts/list by prompt name',
      method: 'prompts/list',
      who: alice,
      result: { prompts: [{ name: 'summarize' }, { name: 'exfiltrate' }] },
      expected: { prompts: [{ name: 'summarize' }] },
    },
    {
      name: 'resources/list by uri, deny wins',
      method: 'resources/list',
      who: alice,
      result: {
        resources: [
          { uri: 'repo://acme/readme', name: 'readme' },
          { uri: 'repo://acme/secrets.txt', name: 's' },
          { uri: 'repo://other/x', name: 'x' },
        ],
      },
      expected: { resources: [{ uri: 'repo://acme/readme', name: 'readme' }] },
    },
    {
      name: 'a listed alias of a denied resource is judged normalized, as its read would be',
      method: 'resources/list',
      who: alice,
      result: { resources: [{ uri: 'REPO://acme/x/../secrets.txt', name: 's' }] },
      expected: { resources: [] },
    },
    {
      name: 'resources/templates/list by uriTemplate',
      method: 'resources/templates/list',
      who: alice,
      result: {
        resourceTemplates: [{ uriTemplate: 'repo://acme/{path}' }, { uriTemplate: 'file:///{path}' }],
      },
      expected: { resourceTemplates: [{ uriTemplate: 'repo://acme/{path}' }] },
    },
    {
      name: 'items without a name are dropped',
      method: 'tools/list',
      who: alice,
      result: { tools: [{ description: 'nameless' }, null, 'search_x', { name: 42 }] },
      expected: { tools: [] },
    },
    {
      name: 'an empty page stays empty and keeps its cursor',
      method: 'tools/list',
      who: alice,
      result: { tools: [], nextCursor: 'next' },
      expected: { tools: [], nextCursor: 'next' },
    },
  ])('$name', ({ method, who, result, expected }) => {
    expect(filterListResult(policy, who, method, result)).toEqual(expected);
  });

  it('returns the very same object when nothing is removed', () => {
    const result = { tools: tools('search_a', 'search_b') };
    expect(filterListResult(policy, alice, 'tools/list', result)).toBe(result);
  });

  it('does not modify the input when items are removed', () => {
    const result = { tools: tools('search_a', 'delete') };
    filterListResult(policy, alice, 'tools/list', result);
    expect(result.tools).toHaveLength(2);
  });

  it.each([
    { name: 'non-list method', method: 'tools/call', result: { tools: tools('delete') } },
    { name: 'result without the list field', method: 'tools/list', result: { other: 1 } },
    { name: 'non-object result', method: 'tools/list', result: 'text' },
  ])('passes through: $name', ({ method, result }) => {
    expect(filterListResult(policy, alice, method, result)).toBe(result);
  });
});
