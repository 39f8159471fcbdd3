import { describe, expect, it } from 'vitest';
import type { McpPolicy } from '../../../../../operator/src/api/mcp-policy.ts';
import { resolvePolicies } from '../../../../../operator/src/controller/mcpserver/policies.ts';
import { acceptedSpecOf, FAIL_CLOSED_RULE } from '../../../../../operator/src/policy/accepted.ts';
import { PolicyChecker } from '../../../../../operator/src/policy/checker.ts';
import { checkPolicy } from '../../../../../operator/src/policy/validation.ts';
import { policy, server } from '../builders.ts';

const rule = (name: string, tools: string[], when?: string) => ({
  name,
  action: 'deny' as const,
  subjects: [{ anyAuthenticated: true }],
  tools,
  ...(when ? { when } : {}),
});

// The operator's own checker: a `when` that does not parse makes a policy not accepted.
const BROKEN = 'tool ==';
const checker = () => new PolicyChecker(checkPolicy);

/** A policy accepted at generation 1 (recorded in status), then edited into `rules` at generation 2. */
function edited(
  name: string,
  labels: Record<string, string>,
  rules: McpPolicy['spec']['rules'],
  acceptedLabels = labels,
): McpPolicy {
  const accepted = policy(name, acceptedLabels, 1, [rule('no-env', ['get-env'])]);
  return { ...policy(name, labels, 2, rules), status: { lastAccepted: acceptedSpecOf(accepted) } };
}

describe('resolvePolicies', () => {
  const s = server('pay', { team: 'payments' });

  it.each([
    {
      name: 'accepted policies go in as they are, sorted by name',
      policies: [policy('b', { team: 'payments' }), policy('a', { team: 'payments' })],
      render: ['a', 'b'],
      inForce: ['a', 'b'],
      rejected: [],
    },
    {
      name: 'a policy that does not select the server is left out',
      policies: [policy('a', { team: 'web' })],
      render: [],
      inForce: [],
      rejected: [],
    },
    {
      name: 'a rejected policy stays in force at its last accepted version',
      policies: [edited('broken', { team: 'payments' }, [rule('no-env', ['get-env'], BROKEN)])],
      render: ['broken'],
      inForce: ['broken'],
      rejected: [{ name: 'broken', keptGeneration: 1 }],
    },
    {
      name: 'a rejected policy that was never accepted fails closed',
      policies: [policy('broken', { team: 'payments' }, 1, [rule('no-env', ['get-env'], BROKEN)])],
      render: ['broken'],
      inForce: [],
      rejected: [{ name: 'broken', keptGeneration: undefined }],
    },
    {
      name: 'a rejected policy keeps the servers its accepted selector chose, not its new one',
      policies: [
        edited('moved', { team: 'web' }, [rule('no-env', ['get-env'], BROKEN)], { team: 'payments' }),
      ],
      render: ['moved'],
      inForce: ['moved'],
      rejected: [{ name: 'moved', keptGeneration: 1 }],
    },
  ])('$name', ({ policies, render, inForce, rejected }) => {
    const r = resolvePolicies(s, policies, checker());
    expect(r.render.map((p) => p.metadata.name)).toEqual(render);
    expect(r.inForce).toEqual(inForce);
    expect(r.rejected.map(({ name, keptGeneration }) => ({ name, keptGeneration }))).toEqual(rejected);
  });

  it('renders the last accepted rules of a rejected policy, not its new ones', () => {
    const r = resolvePolicies(
      s,
      [edited('guardrails', { team: 'payments' }, [rule('no-env', ['get-env'], BROKEN)])],
      checker(),
    );
    expect(r.render[0]?.spec.rules).toEqual([rule('no-env', ['get-env'])]);
    expect(r.rejected[0]?.message).toContain('rule "no-env": when');
  });

  it('renders a deny of every tool, resource and prompt for everyone when no version was accepted', () => {
    const r = resolvePolicies(
      s,
      [policy('guardrails', { team: 'payments' }, 1, [rule('no-env', ['get-env'], BROKEN)])],
      checker(),
    );
    expect(r.render[0]?.spec.rules).toEqual([
      {
        name: FAIL_CLOSED_RULE,
        action: 'deny',
        subjects: [{ anyAuthenticated: true }, { group: 'system:unauthenticated' }],
        tools: ['*'],
        resources: ['*'],
        prompts: ['*'],
      },
    ]);
  });

  it('fails closed on every server of the namespace when even the selector of a never-accepted policy is invalid', () => {
    const broken = policy('guardrails', {}, 1, [rule('no-env', ['get-env'])]);
    broken.spec.servers = { matchLabels: { 'bad key!': 'x' } };
    const r = resolvePolicies(s, [broken], checker());
    expect(r.render[0]?.spec.rules.map((x) => x.name)).toEqual([FAIL_CLOSED_RULE]);
  });

  it('does not trust a recorded version that does not compile: it fails closed', () => {
    const p = edited('forged', { team: 'payments' }, [rule('x', ['*'], BROKEN)]);
    const last = p.status?.lastAccepted;
    if (!last) throw new Error('no record');
    p.status = { lastAccepted: { ...last, rules: [rule('no-env', ['get-env'], BROKEN)] } };
    const r = resolvePolicies(s, [p], checker());
    expect(r.render[0]?.spec.rules.map((x) => x.name)).toEqual([FAIL_CLOSED_RULE]);
    expect(r.rejected[0]?.keptGeneration).toBeUndefined();
  });

  it("does not trust a recorded rule that is not the contract's rule shape: it fails closed", () => {
    const p = edited('forged', { team: 'payments' }, [rule('x', ['*'], BROKEN)]);
    const last = p.status?.lastAccepted;
    if (!last) throw new Error('no record');
    // An action the sidecar does not know; read back through the contract's PolicyRule schema.
    const unknownAction = {
      ...rule('no-env', ['get-env']),
      action: 'audit',
    } as unknown as (typeof last.rules)[number];
    p.status = { lastAccepted: { ...last, rules: [unknownAction] } };
    const r = resolvePolicies(s, [p], checker());
    expect(r.render[0]?.spec.rules.map((x) => x.name)).toEqual([FAIL_CLOSED_RULE]);
    expect(r.rejected[0]?.keptGeneration).toBeUndefined();
  });
});
