import type { ClusterMcpPolicy } from '../../api/cluster-mcp-policy.ts';
import type { McpPolicy } from '../../api/mcp-policy.ts';
import type { McpServer } from '../../api/mcp-server.ts';
import { type PolicyVersion, policyInForce } from '../../policy/accepted.ts';
import type { PolicyChecker } from '../../policy/checker.ts';
import { clusterPolicyInForce, clusterSelects } from '../../policy/cluster.ts';
import { selects } from '../../policy/selection.ts';
import type { PolicyResolution } from './sync.ts';

// Which policies go into a server's sidecar configuration, each at the version in force (see
// policy/accepted.ts): accepted ones as they are, others at the version recorded in their own
// status, or failing closed. Nothing is read back from the server's children, so a server whose
// ConfigMap is gone, or a new one, gets the same rules as every other.

/** Name of a ClusterMcpPolicy in the server's status.policies (the namespaced ones are bare names). */
export const clusterPolicyListed = (name: string) => `ClusterMcpPolicy/${name}`;

export interface ClusterPolicyInput {
  policies: readonly ClusterMcpPolicy[];
  namespaceLabels: Readonly<Record<string, string>> | undefined;
  checker: PolicyChecker<ClusterMcpPolicy>;
}

export function resolvePolicies(
  server: McpServer,
  namespacePolicies: readonly McpPolicy[],
  checker: PolicyChecker,
): PolicyResolution {
  const resolution: PolicyResolution = { render: [], cluster: [], inForce: [], rejected: [] };
  const sorted = [...namespacePolicies].sort((a, b) => a.metadata.name.localeCompare(b.metadata.name));
  for (const policy of sorted) {
    const { policy: rendered, version, message } = policyInForce(policy, checker);
    if (!selects(rendered, server)) continue;
    resolution.render.push(rendered);
    record(resolution, policy.metadata.name, version, message);
  }
  return resolution;
}

/** Adds the ClusterMcpPolicies that select the server, each at the version in force. */
export function withClusterPolicies(
  resolution: PolicyResolution,
  server: McpServer,
  cluster: ClusterPolicyInput,
): PolicyResolution {
  const sorted = [...cluster.policies].sort((a, b) => a.metadata.name.localeCompare(b.metadata.name));
  for (const policy of sorted) {
    const { policy: rendered, version, message } = clusterPolicyInForce(policy, cluster.checker);
    if (!clusterSelects(rendered.spec, server, cluster.namespaceLabels)) continue;
    resolution.cluster.push(rendered);
    record(resolution, clusterPolicyListed(policy.metadata.name), version, message);
  }
  return resolution;
}

function record(resolution: PolicyResolution, name: string, version: PolicyVersion, message?: string): void {
  if (version.kind === 'current') {
    resolution.inForce.push(name);
    return;
  }
  const keptGeneration = version.kind === 'lastAccepted' ? version.generation : undefined;
  if (keptGeneration !== undefined) resolution.inForce.push(name);
  resolution.rejected.push({ name, message: message ?? '', keptGeneration });
}
