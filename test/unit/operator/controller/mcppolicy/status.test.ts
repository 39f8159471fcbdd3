import { describe, expect, it } from 'vitest';
import type { McpPolicy } from '../../../../../operator/src/api/mcp-policy.ts';
import { policyStatus } from '../../../../../operator/src/controller/mcppolicy/status.ts';
import { acceptedSpecOf } from '../../../../../operator/src/policy/accepted.ts';
import { MAX_RECORD_BYTES } from '../../../../../operator/src/policy/status.ts';
import { policy } from '../builders.ts';

const now = new Date('2026-03-01T12:00:00Z');
const ok = { accepted: true, reason: 'Valid', message: 'All rules compiled; the policy is in force.' };
const bad = {
  accepted: false,
  reason: 'InvalidRule',
  message: 'rule "r": when: Unexpected token: EOF at line 1, column 7',
};
const rule = (tools: string[]) => ({
  name: 'r',
  action: 'deny' as const,
  subjects: [{ anyAuthenticated: true }],
  tools,
});
const accepted = (p: McpPolicy) => p.status?.conditions?.find((c) => c.type === 'Accepted');

describe('policyStatus', () => {
  it('records an accepted spec with its generation and digest', () => {
    const p = policy('g', { app: 'x' }, 3, [rule(['get-env'])]);
    const status = policyStatus(p, ok, ['x'], now);
    expect(status.lastAccepted).toMatchObject({ generation: 3, servers: { matchLabels: { app: 'x' } } });
    expect(status.lastAccepted?.digest).toMatch(/^sha256:[0-9a-f]{64}$/);
  });

  it('keeps the recorded version while an edit is not accepted, and names its generation', () => {
    const first = policy('g', {}, 1, [rule(['get-env'])]);
    const edited = { ...policy('g', {}, 2, [rule(['*'])]), status: policyStatus(first, ok, [], now) };
    const status = policyStatus(edited, bad, [], now);
    expect(status.lastAccepted).toEqual(acceptedSpecOf(first));
    expect(accepted({ ...edited, status })?.message).toContain(
      'keep its last accepted version (generation 1',
    );
  });

  it('does not claim a kept version for a policy never accepted', () => {
    const status = policyStatus(policy('g', {}, 1, [rule(['x'])]), bad, [], now);
    expect(status.lastAccepted).toBeUndefined();
    const message = accepted({ ...policy('g', {}), status })?.message ?? '';
    expect(message).not.toContain('keep');
    expect(message).toContain('deny every call');
  });

  it('does not record a spec too large for status, and says what that means', () => {
    const huge = Array.from({ length: 256 }, (_, i) => `${'t'.repeat(500)}${i}`);
    const big = policy('g', {}, 1, [
      rule(huge),
      { ...rule(huge), name: 's' },
      { ...rule(huge), name: 'u' },
      { ...rule(huge), name: 'v' },
      { ...rule(huge), name: 'w' },
    ]);
    expect(JSON.stringify(big.spec).length).toBeGreaterThan(MAX_RECORD_BYTES);
    const status = policyStatus(big, ok, [], now);
    expect(status.lastAccepted).toBeUndefined();
    expect(accepted({ ...big, status })?.message).toContain('too large to record');
  });
});
