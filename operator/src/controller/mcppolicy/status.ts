import type { McpPolicy, McpPolicyStatus } from '../../api/mcp-policy.ts';
import { acceptedSpecOf } from '../../policy/accepted.ts';
import type { PolicyCheck } from '../../policy/checker.ts';
import { statusOf } from '../../policy/status.ts';

// The McpPolicy status, pure: Accepted with the compile result and what is in force instead, the
// last accepted spec (kept while a later one is not accepted), and the servers it selects.

export function policyStatus(
  policy: McpPolicy,
  check: PolicyCheck,
  servers: readonly string[],
  now: Date,
): McpPolicyStatus {
  return statusOf(policy, check, servers, now, () => acceptedSpecOf(policy));
}
