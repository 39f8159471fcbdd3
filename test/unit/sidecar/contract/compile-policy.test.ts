import { describe, expect, it } from 'vitest';
import type { ConfiguredRule } from '../../../../sidecar/src/contract/config.ts';
import { PolicyCompileError } from '../../../../sidecar/src/contract/errors.ts';
import { compilePolicy } from '../../../../sidecar/src/contract/policy.ts';
import { rule } from './builders.ts';

function compileError(rules: ConfiguredRule[]): PolicyCompileError {
  try {
    compilePolicy(rules);
  } catch (err) {
    if (err instanceof PolicyCompileError) return err;
    throw err;
  }
  throw new Error('compilePolicy accepted the rules');
}

describe('compilePolicy errors name the policy, rule and field', () => {
  it.each([
    {
      name: 'CEL syntax error',
      bad: rule({ name: 'bad', tools: ['*'], when: 'arguments.x ==' }),
      code: 'invalid_cel',
      field: 'when',
    },
    {
      name: 'CEL unknown variable',
      bad: rule({ name: 'bad', tools: ['*'], when: 'user.name == "x"' }),
      code: 'invalid_cel',
      field: 'when',
    },
    {
      name: 'CEL type error',
      bad: rule({ name: 'bad', tools: ['*'], when: 'server + 1 == 2' }),
      code: 'invalid_cel',
      field: 'when',
    },
    {
      name: 'CEL not a bool',
      bad: rule({ name: 'bad', tools: ['*'], when: 'server' }),
      code: 'cel_not_bool',
      field: 'when',
    },
    {
      name: 'empty glob',
      bad: rule({ name: 'bad', tools: ['ok', ''] }),
      code: 'invalid_glob',
      field: 'tools[1]',
    },
    {
      name: 'glob with a control character',
      bad: rule({ name: 'bad', resources: ['a\nb'] }),
      code: 'invalid_glob',
      field: 'resources[0]',
    },
    {
      name: 'resource pattern that is not a URI',
      bad: rule({ name: 'bad', resources: ['secret-doc'] }),
      code: 'invalid_glob',
      field: 'resources[0]',
    },
    {
      // URIs are matched normalized: this deny would never apply to anything
      name: 'resource pattern not in normalized form',
      bad: rule({ name: 'bad', resources: ['repo://acme/*', 'DEMO://resource/./secret*'] }),
      code: 'invalid_glob',
      field: 'resources[1]',
    },
    {
      name: 'subject with two kinds',
      bad: rule({ name: 'bad', tools: ['*'], subjects: [{ user: 'a', group: 'b' }] }),
      code: 'invalid_subject',
      field: 'subjects',
    },
    {
      name: 'empty subject',
      bad: rule({ name: 'bad', tools: ['*'], subjects: [{}] }),
      code: 'invalid_subject',
      field: 'subjects',
    },
  ])('$name', ({ bad, code, field }) => {
    const err = compileError([rule({ name: 'fine', tools: ['*'] }), bad]);
    expect(err.code).toBe(code);
    expect(err.rule).toBe('bad');
    expect(err.policy).toBe('team/policy');
    expect(err.field).toBe(field);
    expect(err.message).toContain('policy team/policy, rule bad');
  });

  it('duplicate rule names within one policy', () => {
    const err = compileError([rule({ name: 'twice' }), rule({ name: 'twice' })]);
    expect(err.code).toBe('duplicate_rule');
    expect(err.rule).toBe('twice');
  });

  it('the same rule name in two policies is fine', () => {
    expect(() =>
      compilePolicy([rule({ name: 'r' }), rule({ name: 'r', policy: 'other/policy' })]),
    ).not.toThrow();
  });

  it('accepts every documented subject kind and a valid condition', () => {
    const policy = compilePolicy([
      rule({
        name: 'all-kinds',
        subjects: [
          { user: 'alice@example.com' },
          { group: 'engineering' },
          { serviceAccount: 'ci/release-bot' },
          { serviceAccount: 'ci/*' },
          { claim: { name: 'roles', value: 'reader' } },
          { apiKey: 'k1' },
          { anyAuthenticated: true },
        ],
        tools: ['search_*', 'get_issue'],
        resources: ['repo://acme/*'],
        prompts: ['*'],
        when: 'arguments.owner == "acme" && principal.claims.acr == "mfa"',
      }),
    ]);
    expect(policy.rules).toHaveLength(1);
    expect(policy.byTarget.tool.allow).toHaveLength(1);
  });
});
