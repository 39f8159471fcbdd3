import type { ClusterMcpPolicy } from '../api/cluster-mcp-policy.ts';
import { CLUSTER_MCP_POLICY_KIND } from '../api/cluster-mcp-policy.ts';
import { MCP_POLICY_KIND, type McpPolicy } from '../api/mcp-policy.ts';
import { acceptedCondition, validateClusterPolicy, validatePolicy } from '../policy/validation.ts';

// The admission decision for McpPolicy and ClusterMcpPolicy, pure: the same validation the operator
// runs for Accepted (the sidecar's own compiler: CEL parsed and type-checked, globs, subjects,
// selectors), so a policy the API server admits is one every sidecar accepts. AdmissionReview v1 in,
// AdmissionReview v1 out.

export interface AdmissionReview {
  apiVersion?: string;
  kind?: string;
  request?: {
    uid?: string;
    kind?: { group?: string; kind?: string };
    operation?: string;
    object?: unknown;
  };
}

export function review(input: AdmissionReview): object {
  const uid = input.request?.uid ?? '';
  const respond = (allowed: boolean, message?: string) => ({
    apiVersion: 'admission.k8s.io/v1',
    kind: 'AdmissionReview',
    response: {
      uid,
      allowed,
      ...(message === undefined ? {} : { status: { code: 422, reason: 'Invalid', message } }),
    },
  });
  const object = input.request?.object as McpPolicy | ClusterMcpPolicy | undefined;
  if (object === undefined || typeof object !== 'object' || object === null) return respond(true);
  const kind = input.request?.kind?.kind;
  const issues =
    kind === MCP_POLICY_KIND
      ? validatePolicy(object as McpPolicy)
      : kind === CLUSTER_MCP_POLICY_KIND
        ? validateClusterPolicy(object as ClusterMcpPolicy)
        : [];
  if (issues.length === 0) return respond(true);
  return respond(false, `${kind} ${object.metadata?.name ?? ''}: ${acceptedCondition(issues).message}`);
}
