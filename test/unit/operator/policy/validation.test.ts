import { describe, expect, it } from 'vitest';
import { acceptedCondition, validatePolicy } from '../../../../operator/src/policy/validation.ts';
import { policy, rule } from '../api/builders.ts';

describe('validatePolicy', () => {
  it.each([
    { name: 'a plain allow rule', p: policy() },
    {
      name: 'a CEL condition over arguments and claims',
      p: policy({ rules: [rule({ when: 'arguments.owner == "acme" && principal.claims.acr == "mfa"' })] }),
    },
    { name: 'a deny rule on every tool', p: policy({ rules: [rule({ action: 'deny', tools: ['*'] })] }) },
    { name: 'no rules at all', p: policy({ rules: [] }) },
  ])('accepts $name', ({ p }) => {
    expect(validatePolicy(p)).toEqual([]);
    expect(acceptedCondition([])).toMatchObject({ status: 'True', reason: 'Valid' });
  });

  it.each([
    {
      name: 'CEL that does not parse',
      p: policy({ rules: [rule(), rule({ name: 'broken', when: 'arguments.owner ==' })] }),
      rule: 'broken',
      field: 'when',
    },
    {
      name: 'CEL over an unknown variable',
      p: policy({ rules: [rule({ name: 'unknown-var', when: 'user.name == "a"' })] }),
      rule: 'unknown-var',
      field: 'when',
    },
    {
      name: 'CEL that is not a bool',
      p: policy({ rules: [rule({ name: 'not-bool', when: 'tool + "x"' })] }),
      rule: 'not-bool',
      field: 'when',
    },
    {
      name: 'a pattern with a control character',
      p: policy({ rules: [rule({ name: 'bad-glob', tools: ['ok', 'bad\u0001'] })] }),
      rule: 'bad-glob',
      field: 'tools[1]',
    },
    {
      name: 'two rules with one name',
      p: policy({ rules: [rule({ name: 'twice' }), rule({ name: 'twice' })] }),
      rule: 'twice',
      field: 'name',
    },
    {
      name: 'a subject with two kinds (object not checked by the CRD)',
      p: policy({ rules: [rule({ name: 'two-kinds', subjects: [{ user: 'a', group: 'b' }] })] }),
      rule: 'two-kinds',
      field: 'subjects.0',
    },
  ])('reports $name, naming the rule', ({ p, rule: ruleName, field }) => {
    const issues = validatePolicy(p);
    expect(issues.length).toBeGreaterThan(0);
    expect(issues[0]).toMatchObject({ rule: ruleName, field });
    const condition = acceptedCondition(issues);
    expect(condition).toMatchObject({ status: 'False', reason: 'InvalidRule' });
    expect(condition.message).toContain(`rule "${ruleName}"`);
  });

  it('reports an invalid selector as InvalidSelector', () => {
    const issues = validatePolicy(
      policy({ servers: { matchExpressions: [{ key: 'team', operator: 'In', values: [] }] } }),
    );
    expect(issues).toEqual([
      { field: 'spec.servers', message: 'matchExpressions[0]: In needs at least one value' },
    ]);
    expect(acceptedCondition(issues)).toMatchObject({ status: 'False', reason: 'InvalidSelector' });
  });

  it.each([
    {
      name: 'a parse error',
      when: 'arguments.owner ==== "x"',
      at: 'Unexpected token: EQ at line 1, column 19',
    },
    {
      name: 'a parse error on a later line',
      when: 'arguments.owner == "x" &&\n  principal.claims.acr ==',
      at: 'at line 2, column 26',
    },
    {
      name: 'a type error',
      when: 'tool == "a" || nosuch == 1',
      at: 'Unknown variable: nosuch at line 1, column 16',
    },
  ])('gives the line and column of $name in a CEL condition', ({ when, at }) => {
    const issues = validatePolicy(policy({ rules: [rule({ name: 'cel', when })] }));
    expect(acceptedCondition(issues).message).toContain(at);
  });

  it('reports every broken rule, not only the first', () => {
    const issues = validatePolicy(
      policy({
        rules: [rule({ name: 'a', when: '(' }), rule({ name: 'b' }), rule({ name: 'c', when: '1' })],
      }),
    );
    expect(issues.map((i) => i.rule)).toEqual(['a', 'c']);
  });
});
