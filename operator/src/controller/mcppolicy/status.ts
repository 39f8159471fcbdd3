import { PolicyCondition } from '../../api/conditions.ts';
import type { McpPolicy, McpPolicyStatus } from '../../api/mcp-policy.ts';
import { type Condition, setConditions } from '../conditions.ts';
import { acceptedSpecOf } from './accepted.ts';
import type { PolicyCheck } from './policy-checker.ts';

// The McpPolicy status, pure: Accepted with the compile result and what is in force instead, the
// last accepted spec (kept while a later one is not accepted), and the servers it selects.

/** What the servers enforce while the spec is not accepted, for the Accepted=False message. */
export function notAcceptedConsequence(keptGeneration: number | undefined): string {
  return keptGeneration === undefined
    ? 'No version of this policy was ever accepted, so the servers it selects deny every call until it is fixed.'
    : `The servers keep its last accepted version (generation ${keptGeneration}, status.lastAccepted); fix it and apply again.`;
}

export function policyStatus(
  policy: McpPolicy,
  check: PolicyCheck,
  servers: readonly string[],
  now: Date,
): McpPolicyStatus {
  const previous = policy.status;
  const generation = policy.metadata.generation ?? 0;
  const lastAccepted = check.accepted ? acceptedSpecOf(policy) : previous?.lastAccepted;
  const message = check.accepted
    ? check.message
    : `${check.message}. ${notAcceptedConsequence(lastAccepted?.generation)}`;
  return {
    observedGeneration: generation,
    conditions: setConditions(
      (previous?.conditions ?? []) as Condition[],
      [
        {
          type: PolicyCondition.Accepted,
          status: check.accepted ? 'True' : 'False',
          reason: check.reason,
          message,
          observedGeneration: generation,
        },
      ],
      now,
    ),
    ...(lastAccepted ? { lastAccepted } : {}),
    servers: [...servers].sort(),
  };
}
