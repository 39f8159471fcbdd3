import type { ClusterMcpPolicy, ClusterMcpPolicySpec } from '../api/cluster-mcp-policy.ts';
import type { LabelSelector } from '../api/kube-types.ts';
import type { McpServer } from '../api/mcp-server.ts';
import { sha256Of } from '../kube/json.ts';
import { failClosedRule, type PolicyVersion } from './accepted.ts';
import { memoId, type PolicyChecker } from './checker.ts';
import { selectorMatches, selectorProblems } from './selection.ts';

// ClusterMcpPolicy: which servers one selects (namespace labels and server labels) and which version
// of it is in force, by the rules McpPolicy follows (accepted.ts): an accepted spec as it is; while
// the spec is not accepted, the version recorded in status.lastAccepted; with none, its servers deny
// every call. A selector that is invalid widens to every namespace or server, never narrows: a
// guardrail with a typo must not silently stop guarding.

/** Policy reference written into each rule: what audit events and denials name. */
export const clusterPolicyRef = (policy: Pick<ClusterMcpPolicy, 'metadata'>): string =>
  `ClusterMcpPolicy ${policy.metadata.name}`;

export type NamespaceLabels = (namespace: string) => Readonly<Record<string, string>> | undefined;

/** Pure: whether the spec selects `server`, whose namespace carries `namespaceLabels`. */
export function clusterSelects(
  spec: Pick<ClusterMcpPolicySpec, 'namespaceSelector' | 'servers'>,
  server: McpServer,
  namespaceLabels: Readonly<Record<string, string>> | undefined,
): boolean {
  return (
    selectorMatches(spec.namespaceSelector ?? {}, namespaceLabels ?? {}) &&
    selectorMatches(spec.servers, server.metadata.labels)
  );
}

export function clusterAcceptedSpecOf(policy: ClusterMcpPolicy) {
  const { namespaceSelector, servers, rules } = policy.spec;
  return {
    generation: policy.metadata.generation ?? 0,
    digest: `sha256:${sha256Of({ namespaceSelector, servers, rules })}`,
    ...(namespaceSelector ? { namespaceSelector } : {}),
    servers,
    rules,
  };
}

const widened = (selector: LabelSelector | undefined): LabelSelector =>
  selector !== undefined && selectorProblems(selector).length === 0 ? selector : {};

export interface ClusterPolicyInForce {
  /** The policy as it is rendered: its spec replaced by the version in force. */
  policy: ClusterMcpPolicy;
  version: PolicyVersion;
  message?: string;
}

export function clusterPolicyInForce(
  policy: ClusterMcpPolicy,
  checker: PolicyChecker<ClusterMcpPolicy>,
): ClusterPolicyInForce {
  const check = checker.check(policy);
  if (check.accepted) return { policy, version: { kind: 'current' } };
  const last = policy.status?.lastAccepted;
  if (last) {
    const { generation, digest: _digest, ...spec } = last;
    const recorded = {
      ...policy,
      metadata: { ...policy.metadata, uid: `${memoId(policy)}@lastAccepted`, generation },
      spec,
    };
    if (checker.check(recorded).accepted) {
      return {
        policy: { ...policy, spec },
        version: { kind: 'lastAccepted', generation },
        message: check.message,
      };
    }
  }
  return {
    policy: {
      ...policy,
      spec: {
        namespaceSelector: widened(policy.spec.namespaceSelector),
        servers: widened(policy.spec.servers),
        rules: [failClosedRule],
      },
    },
    version: { kind: 'failClosed' },
    message: check.message,
  };
}

/** Whether any version of the policy (spec, recorded, fail-closed widening) may govern the server. */
export function clusterMayGovern(
  policy: ClusterMcpPolicy,
  server: McpServer,
  namespaceLabels: Readonly<Record<string, string>> | undefined,
): boolean {
  const specs = [
    { namespaceSelector: widened(policy.spec.namespaceSelector), servers: widened(policy.spec.servers) },
    ...(policy.status?.lastAccepted ? [policy.status.lastAccepted] : []),
  ];
  return specs.some((spec) => clusterSelects(spec, server, namespaceLabels));
}
