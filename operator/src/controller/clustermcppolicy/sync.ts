import type { Logger } from 'pino';
import type { ClusterMcpPolicy } from '../../api/cluster-mcp-policy.ts';
import { PolicyCondition } from '../../api/conditions.ts';
import type { McpServer } from '../../api/mcp-server.ts';
import type { KubeClient } from '../../kube/client.ts';
import type { ReconcileOutcome } from '../../kube/controller.ts';
import type { EventRecorder } from '../../kube/events.ts';
import { deepEqual } from '../../kube/json.ts';
import type { Store } from '../../kube/store.ts';
import type { PolicyChecker } from '../../policy/checker.ts';
import { clusterAcceptedSpecOf, clusterSelects, type NamespaceLabels } from '../../policy/cluster.ts';
import { statusOf } from '../../policy/status.ts';

// Reconcile of one ClusterMcpPolicy: compile it, list the servers it selects across namespaces,
// write the status (with the last accepted spec) if it changed. Servers are re-queued by the event
// wiring of the server controller, not from here.

export interface ClusterPolicySyncDeps {
  client: KubeClient;
  fieldManager: string;
  policies: Store<ClusterMcpPolicy>;
  servers: Store<McpServer>;
  namespaceLabels: NamespaceLabels;
  checker: PolicyChecker<ClusterMcpPolicy>;
  events: EventRecorder;
  log: Logger;
  now: () => Date;
}

export async function syncClusterPolicy(
  deps: ClusterPolicySyncDeps,
  name: string,
): Promise<ReconcileOutcome | undefined> {
  const policy = deps.policies.get(undefined, name);
  if (!policy || policy.metadata.deletionTimestamp) return undefined;

  const check = deps.checker.check(policy);
  const servers = deps.servers
    .list()
    .filter((s) => clusterSelects(policy.spec, s, deps.namespaceLabels(s.metadata.namespace ?? '')))
    .map((s) => `${s.metadata.namespace}/${s.metadata.name}`);
  const status = statusOf(policy, check, servers, deps.now(), () => clusterAcceptedSpecOf(policy));
  if (deepEqual(status, policy.status ?? {})) return undefined;

  const wasAccepted = policy.status?.conditions?.find((c) => c.type === PolicyCondition.Accepted)?.status;
  const result = await deps.client.apply<ClusterMcpPolicy>(
    { apiVersion: policy.apiVersion, kind: policy.kind, metadata: { name }, status },
    { fieldManager: deps.fieldManager, force: true, subresource: 'status' },
  );
  deps.policies.upsert({ ...result, apiVersion: policy.apiVersion, kind: policy.kind });
  if (!check.accepted && wasAccepted !== 'False') {
    const accepted = status.conditions.find((c) => c.type === PolicyCondition.Accepted);
    deps.events.record(policy, 'Warning', check.reason, 'Validate', accepted?.message ?? check.message);
  } else if (check.accepted && wasAccepted === 'False') {
    deps.events.record(
      policy,
      'Normal',
      check.reason,
      'Validate',
      'The policy compiles again and is in force.',
    );
  }
  return undefined;
}
