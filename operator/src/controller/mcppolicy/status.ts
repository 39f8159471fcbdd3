import { PolicyCondition } from '../../api/conditions.ts';
import type { McpPolicyStatus } from '../../api/mcp-policy.ts';
import { type Condition, setConditions } from '../conditions.ts';
import type { PolicyCheck } from './policy-checker.ts';

// The McpPolicy status, pure: Accepted with the compile result, and the servers it selects.

export function policyStatus(
  previous: McpPolicyStatus | undefined,
  generation: number,
  check: PolicyCheck,
  servers: readonly string[],
  now: Date,
): McpPolicyStatus {
  return {
    observedGeneration: generation,
    conditions: setConditions(
      (previous?.conditions ?? []) as Condition[],
      [
        {
          type: PolicyCondition.Accepted,
          status: check.accepted ? 'True' : 'False',
          reason: check.reason,
          message: check.message,
          observedGeneration: generation,
        },
      ],
      now,
    ),
    servers: [...servers].sort(),
  };
}
