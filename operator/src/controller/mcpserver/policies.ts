import type { McpPolicy } from '../../api/mcp-policy.ts';
import type { McpServer } from '../../api/mcp-server.ts';
import { policiesForServer } from '../../render/policy-selection.ts';
import type { PolicyChecker } from '../mcppolicy/policy-checker.ts';
import type { PolicyResolution } from './sync.ts';

// Which policies go into a server's sidecar configuration. Accepted policies go in as they are. A
// policy that is not accepted goes in at its last good version, read back from the rules the live
// ConfigMap carries for it (each rule names its policy), so a bad edit never loosens or tightens
// what is in force, and this survives operator restarts without extra state.

type Rule = McpPolicy['spec']['rules'][number];

export function lastGoodRules(configText: string | undefined, policyRef: string): Rule[] {
  if (!configText) return [];
  try {
    const config = JSON.parse(configText) as { authorization?: { rules?: (Rule & { policy?: string })[] } };
    return (config.authorization?.rules ?? [])
      .filter((r) => r.policy === policyRef)
      .map(({ policy: _p, ...rule }) => rule as Rule);
  } catch {
    return [];
  }
}

export function resolvePolicies(
  server: McpServer,
  namespacePolicies: readonly McpPolicy[],
  checker: PolicyChecker,
  configText: string | undefined,
): PolicyResolution {
  const resolution: PolicyResolution = { render: [], inForce: [], rejected: [] };
  for (const policy of policiesForServer(server, namespacePolicies)) {
    const check = checker.check(policy);
    if (check.accepted) {
      resolution.render.push(policy);
      resolution.inForce.push(policy.metadata.name);
      continue;
    }
    resolution.rejected.push({ name: policy.metadata.name, message: check.message });
    const rules = lastGoodRules(configText, `${policy.metadata.namespace}/${policy.metadata.name}`);
    if (rules.length > 0) {
      resolution.render.push({ ...policy, spec: { ...policy.spec, rules } });
      resolution.inForce.push(policy.metadata.name);
    }
  }
  return resolution;
}
