import { describe, expect, it } from 'vitest';
import { PolicyChecker } from '../../../../../operator/src/controller/mcppolicy/policy-checker.ts';
import { lastGoodRules, resolvePolicies } from '../../../../../operator/src/controller/mcpserver/policies.ts';
import { policy, server } from '../builders.ts';

const rule = (name: string, tools: string[]) => ({
  name,
  action: 'allow' as const,
  subjects: [{ group: 'engineering' }],
  tools,
});

// The live configuration text as the renderer writes it: rules carry the policy they came from.
const liveConfig = JSON.stringify({
  authorization: {
    rules: [
      { ...rule('old', ['get_*']), policy: 'team/broken' },
      { ...rule('x', ['*']), policy: 'team/good' },
    ],
  },
});

// Accepted unless the policy is called "broken".
const checker = () =>
  new PolicyChecker((p) =>
    p.metadata.name === 'broken'
      ? { accepted: false, reason: 'InvalidRule', message: 'rule "r": when: syntax error' }
      : { accepted: true, reason: 'Valid', message: 'ok' },
  );

describe('resolvePolicies', () => {
  const s = server('pay', { team: 'payments' });

  it.each([
    {
      name: 'accepted policies go in as they are, sorted by name',
      policies: [policy('b', { team: 'payments' }), policy('a', { team: 'payments' })],
      config: undefined,
      render: ['a', 'b'],
      rejected: [],
    },
    {
      name: 'a policy that does not select the server is left out',
      policies: [policy('a', { team: 'web' })],
      config: undefined,
      render: [],
      rejected: [],
    },
    {
      name: 'a rejected policy stays in force at its last good version',
      policies: [policy('broken', { team: 'payments' }, 2, [rule('new', ['delete_*'])])],
      config: liveConfig,
      render: ['broken'],
      rejected: ['broken'],
    },
    {
      name: 'a rejected policy that was never in force is not rendered',
      policies: [policy('broken', { team: 'payments' })],
      config: undefined,
      render: [],
      rejected: ['broken'],
    },
  ])('$name', ({ policies, config, render, rejected }) => {
    const r = resolvePolicies(s, policies, checker(), config);
    expect(r.render.map((p) => p.metadata.name)).toEqual(render);
    expect(r.rejected.map((p) => p.name)).toEqual(rejected);
  });

  it('renders the last good rules of a rejected policy, not its new ones', () => {
    const r = resolvePolicies(
      s,
      [policy('broken', { team: 'payments' }, 2, [rule('new', ['delete_*'])])],
      checker(),
      liveConfig,
    );
    expect(r.render[0]?.spec.rules).toEqual([rule('old', ['get_*'])]);
  });
});

describe('lastGoodRules', () => {
  it.each([
    { name: 'rules of that policy, without the policy field', text: liveConfig, ref: 'team/good', count: 1 },
    { name: 'no configuration yet', text: undefined, ref: 'team/good', count: 0 },
    { name: 'unreadable configuration', text: '{not json', ref: 'team/good', count: 0 },
  ])('$name', ({ text, ref, count }) => {
    const rules = lastGoodRules(text, ref);
    expect(rules).toHaveLength(count);
    for (const r of rules) expect(r).not.toHaveProperty('policy');
  });
});
