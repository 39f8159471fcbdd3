import { describe, expect, it } from 'vitest';
import { decide, decideDryRun } from '../../../../sidecar/src/contract/decide.ts';
import { compilePolicy } from '../../../../sidecar/src/contract/policy.ts';
import { alice, bob, call, rule } from './builders.ts';

// DryRun rules decide nothing: the decision is the one the enforced rules make, and what a DryRun
// rule would have changed is reported beside it (wouldDeny, wouldAllow, with the rule); a DryRun
// rule that agrees with the enforced decision changed nothing and is not reported.

const engineersRead = rule({ name: 'engineers-read', subjects: [{ group: 'engineering' }], tools: ['*'] });
const noDelete = rule({ name: 'no-delete', action: 'deny', tools: ['delete-*'], enforcement: 'DryRun' });
const trialAllow = rule({
  name: 'trial',
  subjects: [{ user: 'alice@example.com' }],
  tools: ['search'],
  enforcement: 'DryRun',
});
const enforcedDeny = rule({ name: 'no-drop', action: 'deny', tools: ['delete-db'] });
const failing = rule({
  name: 'amount-cap',
  action: 'deny',
  tools: ['pay'],
  when: 'arguments.amount > 100',
  enforcement: 'DryRun',
});

const policy = compilePolicy([engineersRead, noDelete, trialAllow, enforcedDeny, failing]);

describe('DryRun rules', () => {
  it.each([
    {
      name: 'a DryRun deny that matches: allowed, would deny',
      who: bob,
      tool: 'delete-repo',
      effect: 'allow',
      rule: 'engineers-read',
      dry: { outcome: 'wouldDeny', policy: 'team/policy', rule: 'no-delete' },
    },
    {
      name: 'a DryRun allow that matches: denied by default, would allow',
      who: alice,
      tool: 'search',
      effect: 'deny',
      rule: undefined,
      dry: { outcome: 'wouldAllow', policy: 'team/policy', rule: 'trial' },
    },
    {
      name: 'an enforced deny decides first: nothing a DryRun rule would change',
      who: bob,
      tool: 'delete-db',
      effect: 'deny',
      rule: 'no-drop',
      dry: undefined,
    },
    {
      name: 'no DryRun rule matches',
      who: bob,
      tool: 'list-repos',
      effect: 'allow',
      rule: 'engineers-read',
      dry: undefined,
    },
    {
      name: 'a DryRun deny whose condition fails to evaluate: would deny (fail closed, as if enforced)',
      who: bob,
      tool: 'pay',
      effect: 'allow',
      rule: 'engineers-read',
      dry: { outcome: 'wouldDeny', policy: 'team/policy', rule: 'amount-cap' },
    },
  ])('$name', ({ who, tool, effect, rule: ruleName, dry }) => {
    const d = decide(policy, who, call(tool, {}));
    expect(d.effect).toBe(effect);
    expect(d.rule?.name).toBe(ruleName);
    expect(decideDryRun(policy, who, call(tool, {}), d)).toEqual(dry);
  });

  it('a policy without DryRun rules has nothing to decide twice', () => {
    const enforced = compilePolicy([engineersRead]);
    expect(enforced.dryRun).toBeUndefined();
    expect(decideDryRun(enforced, bob, call('x'), decide(enforced, bob, call('x')))).toBeUndefined();
  });
});
