import type { McpPolicy } from '../../api/mcp-policy.ts';
import type { McpServer } from '../../api/mcp-server.ts';
import { policyInForce } from '../../policy/accepted.ts';
import type { PolicyChecker } from '../../policy/checker.ts';
import { selects } from '../../policy/selection.ts';
import type { PolicyResolution } from './sync.ts';

// Which policies go into a server's sidecar configuration, each at the version in force (see
// policy/accepted.ts): accepted ones as they are, others at the version recorded in their own
// status, or failing closed. Nothing is read back from the server's children, so a server whose
// ConfigMap is gone, or a new one, gets the same rules as every other.

export function resolvePolicies(
  server: McpServer,
  namespacePolicies: readonly McpPolicy[],
  checker: PolicyChecker,
): PolicyResolution {
  const resolution: PolicyResolution = { render: [], inForce: [], rejected: [] };
  const sorted = [...namespacePolicies].sort((a, b) => a.metadata.name.localeCompare(b.metadata.name));
  for (const policy of sorted) {
    const { policy: rendered, version, message } = policyInForce(policy, checker);
    if (!selects(rendered, server)) continue;
    resolution.render.push(rendered);
    const name = policy.metadata.name;
    if (version.kind === 'current') {
      resolution.inForce.push(name);
    } else {
      const keptGeneration = version.kind === 'lastAccepted' ? version.generation : undefined;
      if (keptGeneration !== undefined) resolution.inForce.push(name);
      resolution.rejected.push({ name, message: message ?? '', keptGeneration });
    }
  }
  return resolution;
}
