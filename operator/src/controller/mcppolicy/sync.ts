import type { Logger } from 'pino';
import { PolicyCondition } from '../../api/conditions.ts';
import type { McpPolicy } from '../../api/mcp-policy.ts';
import type { McpServer } from '../../api/mcp-server.ts';
import type { KubeClient } from '../../kube/client.ts';
import type { ReconcileOutcome } from '../../kube/controller.ts';
import type { EventRecorder } from '../../kube/events.ts';
import { deepEqual } from '../../kube/json.ts';
import { splitKey } from '../../kube/object.ts';
import type { Store } from '../../kube/store.ts';
import type { PolicyChecker } from '../../policy/checker.ts';
import { serversForPolicy } from '../../policy/selection.ts';
import { policyStatus } from './status.ts';

// Reconcile of one McpPolicy: compile it, list the servers it selects, write the status (with the
// last accepted spec) if it changed. The servers themselves are re-queued by the event wiring, not from here.

export interface PolicySyncDeps {
  client: KubeClient;
  fieldManager: string;
  policies: Store<McpPolicy>;
  servers: Store<McpServer>;
  checker: PolicyChecker;
  events: EventRecorder;
  log: Logger;
  now: () => Date;
}

export async function syncPolicy(deps: PolicySyncDeps, key: string): Promise<ReconcileOutcome | undefined> {
  const { namespace, name } = splitKey(key);
  const policy = deps.policies.get(namespace, name);
  if (!policy || policy.metadata.deletionTimestamp) return undefined;

  const check = deps.checker.check(policy);
  const servers = serversForPolicy(policy, deps.servers.list(namespace));
  const status = policyStatus(policy, check, servers, deps.now());
  if (deepEqual(status, policy.status ?? {})) return undefined;

  const wasAccepted = policy.status?.conditions?.find((c) => c.type === PolicyCondition.Accepted)?.status;
  const result = await deps.client.apply<McpPolicy>(
    {
      apiVersion: policy.apiVersion,
      kind: policy.kind,
      metadata: { name, namespace },
      status,
    },
    { fieldManager: deps.fieldManager, force: true, subresource: 'status' },
  );
  deps.policies.upsert({ ...result, apiVersion: policy.apiVersion, kind: policy.kind });
  if (!check.accepted && wasAccepted !== 'False') {
    const accepted = status.conditions?.find((c) => c.type === PolicyCondition.Accepted);
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
