import { PolicyCondition } from '../api/conditions.ts';
import type { McpPolicy, McpPolicyStatus } from '../api/mcp-policy.ts';
import { canonicalJson } from '../kube/json.ts';
import { type Condition, setConditions } from '../reconcile/conditions.ts';
import type { PolicyCheck } from './checker.ts';

// The status of a policy of either kind (McpPolicy, ClusterMcpPolicy), pure: Accepted with the
// compile result and what is in force instead, the last accepted spec (kept while a later one is
// not accepted), and the servers it selects.

/** What the servers enforce while the spec is not accepted, for the Accepted=False message. */
export function notAcceptedConsequence(keptGeneration: number | undefined): string {
  return keptGeneration === undefined
    ? 'No accepted version of this policy is recorded, so the servers it selects deny every call until it is fixed.'
    : `The servers keep its last accepted version (generation ${keptGeneration}, status.lastAccepted); fix it and apply again.`;
}

/**
 * Status shares the object's 1.5 MiB etcd limit with the spec: a larger record would make every
 * status write fail, so it is not kept (an invalid edit then fails closed, and the message says so).
 */
export const MAX_RECORD_BYTES = 512 * 1024;

/** The status of a policy of either kind; `accepted` records its spec as status.lastAccepted. */
export function statusOf<R extends { generation: number }>(
  policy: {
    metadata: McpPolicy['metadata'];
    status?: { conditions?: McpPolicyStatus['conditions']; lastAccepted?: R };
  },
  check: PolicyCheck,
  servers: readonly string[],
  now: Date,
  accepted: () => R,
): { observedGeneration: number; conditions: Condition[]; lastAccepted?: R; servers: string[] } {
  const previous = policy.status;
  const generation = policy.metadata.generation ?? 0;
  const record = check.accepted ? accepted() : previous?.lastAccepted;
  const tooLarge = check.accepted && canonicalJson(record).length > MAX_RECORD_BYTES;
  const lastAccepted = tooLarge ? undefined : record;
  const message = !check.accepted
    ? `${check.message}. ${notAcceptedConsequence(lastAccepted?.generation)}`
    : tooLarge
      ? `${check.message} Its spec is too large to record in status.lastAccepted (over ${MAX_RECORD_BYTES / 1024} KiB), so an invalid edit would make its servers deny every call.`
      : check.message;
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
