import type { Logger } from 'pino';
import type { ClusterMcpPolicy } from '../../api/cluster-mcp-policy.ts';
import { ServerCondition, ServerReason } from '../../api/conditions.ts';
import type { McpPolicy } from '../../api/mcp-policy.ts';
import type { McpServer, McpServerStatus } from '../../api/mcp-server.ts';
import type { KubeClient } from '../../kube/client.ts';
import type { ReconcileOutcome } from '../../kube/controller.ts';
import type { EventRecorder } from '../../kube/events.ts';
import { deepEqual } from '../../kube/json.ts';
import { type KubeObject, splitKey } from '../../kube/object.ts';
import { Resources, resourceOf } from '../../kube/resources.ts';
import type { Store } from '../../kube/store.ts';
import { applyDecision, withAppliedHash } from '../../reconcile/apply-decision.ts';
import { applyFailureMessage, isPassing } from '../../reconcile/apply-failure.ts';
import { isTrue } from '../../reconcile/conditions.ts';
import { foreignTemplateField, templateReplacement } from '../../reconcile/drift.ts';
import { isControlledBy, withOwnership } from '../../reconcile/ownership.ts';
import { creationConflict } from './conflicts.ts';
import { type PodView, podProblems } from './pod-health.ts';
import { type DeploymentState, serverStatus } from './status.ts';

// Reconcile of one McpServer: read everything from the caches -> render the desired children ->
// refuse to create any whose name a stranger's object holds (conflicts.ts) -> apply only those
// that are missing, changed or drifted -> delete children no longer desired ->
// write the status once, at the end, if it changed.

const CONFLICT_RECHECK_MS = 30_000;

export interface PolicyResolution {
  /** Policies to render: accepted ones as they are, rejected ones at their last accepted version or failing closed. */
  render: McpPolicy[];
  /** Selected ClusterMcpPolicies, at the version in force the same way. */
  cluster: ClusterMcpPolicy[];
  inForce: string[];
  /** keptGeneration: the accepted generation in force; absent: none, every call is denied. */
  rejected: { name: string; message: string; keptGeneration?: number }[];
}

export type Rendered =
  | { ok: true; objects: KubeObject[]; url: string; replicas: number }
  | { ok: false; reason: 'InvalidSpec' | 'Unsupported'; message: string };

export interface ServerSyncDeps {
  client: KubeClient;
  fieldManager: string;
  servers: Store<McpServer>;
  /** Child stores by kind. */
  children: ReadonlyMap<string, Store<KubeObject>>;
  /** Selected policies of a server, each at the version in force. */
  resolvePolicies: (server: McpServer) => PolicyResolution;
  /** Pure renderer: the children in apply order, or why the spec cannot be rendered. */
  render: (
    server: McpServer,
    policies: readonly McpPolicy[],
    clusterPolicies: readonly ClusterMcpPolicy[],
  ) => Rendered;
  /** The server's pods as last seen, for why they are unavailable. */
  pods: (serverKey: string) => readonly PodView[];
  events: EventRecorder;
  log: Logger;
  now: () => Date;
}

function liveChildrenOf(deps: ServerSyncDeps, server: McpServer): Map<string, KubeObject> {
  const { namespace, name } = server.metadata;
  const live = new Map<string, KubeObject>();
  for (const [kind, store] of deps.children) {
    // Children take the server's name; only those this server controls (by uid) are its own.
    const object = store.get(namespace ?? '', name);
    if (object && isControlledBy(object, server)) live.set(kind, object);
  }
  return live;
}

export async function syncServer(deps: ServerSyncDeps, key: string): Promise<ReconcileOutcome | undefined> {
  const { namespace, name } = splitKey(key);
  const server = deps.servers.get(namespace, name);
  // Gone or going: the garbage collector removes the children through their owner references.
  if (!server || server.metadata.deletionTimestamp) return undefined;

  const live = liveChildrenOf(deps, server);
  const policies = deps.resolvePolicies(server);

  const result = deps.render(server, policies.render, policies.cluster);
  const rendered = result.ok ? result : undefined;
  const renderError = result.ok ? undefined : { reason: result.reason, message: result.message };

  let applyError: string | undefined;
  let conflict: string | undefined;
  let failure: unknown;
  let deployment = live.get('Deployment') as DeploymentState | undefined;
  const wrote: string[] = [];
  const plans = (rendered?.objects ?? []).map((object) => {
    const desired = withAppliedHash(withOwnership(object, server));
    const kind = desired.kind ?? '';
    return { desired, kind, decision: applyDecision(desired, live.get(kind), deps.fieldManager) };
  });
  if (rendered) {
    const missing = plans.filter((p) => p.decision.apply && p.decision.reason === 'Missing');
    conflict = await creationConflict(
      deps.client,
      deps.children,
      server,
      missing.map((p) => p.desired),
    );
  }
  if (rendered && !conflict) {
    // The children do not depend on each other at apply time (pods wait for their ConfigMap and
    // ServiceAccount), so they are applied together: one round trip of latency, not six.
    const pending = plans.filter((p) => p.decision.apply);
    const results = await Promise.allSettled(
      pending.map((p) =>
        deps.client.apply<KubeObject>(p.desired, { fieldManager: deps.fieldManager, force: true }),
      ),
    );
    for (const [i, outcome] of results.entries()) {
      const { desired, kind, decision } = pending[i] as (typeof pending)[number];
      if (!decision.apply) continue;
      if (outcome.status === 'fulfilled') {
        deps.children.get(kind)?.upsert({ ...outcome.value, apiVersion: desired.apiVersion, kind });
        if (kind === 'Deployment') deployment = outcome.value as DeploymentState;
        const what =
          decision.reason === 'Missing'
            ? 'created'
            : decision.reason === 'Drifted'
              ? `reverted (${decision.detail})`
              : 'updated';
        wrote.push(`${kind} ${what}`);
        deps.log.debug({ key, kind, reason: decision.reason, detail: decision.detail }, 'applied');
      } else {
        failure ??= outcome.reason;
        if (!isPassing(outcome.reason)) {
          applyError ??= applyFailureMessage(kind, desired.metadata.name, outcome.reason);
        }
      }
    }
    // A passing failure is only retried; a refusal is reported below, then retried with backoff.
    if (failure !== undefined && !applyError) throw failure;
    if (failure === undefined) {
      const desired = plans.find((p) => p.kind === 'Deployment')?.desired;
      if (desired && deployment) deployment = await revertTemplateAdditions(deps, desired, deployment, wrote);
      await deleteUnwanted(deps, live, new Set(plans.map((p) => p.kind)), wrote);
    }
  }

  if (wrote.length > 0) {
    const drift = wrote.some((w) => w.includes('reverted'));
    deps.events.record(server, 'Normal', drift ? 'DriftCorrected' : 'Applied', 'Reconcile', wrote.join('; '));
  }
  if (applyError) deps.events.record(server, 'Warning', 'ApplyFailed', 'Reconcile', applyError);
  if (conflict) deps.events.record(server, 'Warning', ServerReason.Conflict, 'Reconcile', conflict);
  if (renderError)
    deps.events.record(server, 'Warning', renderError.reason, 'Reconcile', renderError.message);

  const status = serverStatus(
    {
      name,
      generation: server.metadata.generation ?? 0,
      previous: server.status,
      url: rendered?.url ?? server.status?.url,
      renderError,
      applyError,
      conflict,
      desiredReplicas: rendered?.replicas ?? server.spec.hosted?.replicas ?? 1,
      deployment,
      policies: policies.inForce,
      rejectedPolicies: policies.rejected,
      podProblems: podProblems(deps.pods(key)),
    },
    deps.now(),
  );
  await writeStatus(deps, server, status);
  // Through the controller's rate-limited requeue: retried with exponential backoff, never hot.
  if (failure !== undefined) throw failure;
  // The object in the way is not watched (it carries no label of ours): look again later.
  return conflict ? { requeueAfterMs: CONFLICT_RECHECK_MS } : undefined;
}

/** Replaces a pod template that another writer added to (reconcile/drift.ts); returns the Deployment as now stored. */
async function revertTemplateAdditions(
  deps: ServerSyncDeps,
  desired: KubeObject,
  deployment: DeploymentState,
  wrote: string[],
): Promise<DeploymentState> {
  const added = foreignTemplateField(deployment as KubeObject, deps.fieldManager);
  if (!added) return deployment;
  // The cache trims managedFields; the update must carry every writer's entry but the claims it drops.
  const { namespace, name } = (deployment as KubeObject).metadata;
  const live = await deps.client.get<KubeObject>(Resources.Deployment, namespace, name);
  if (!live) return deployment;
  const stored = await deps.client.update<KubeObject>(templateReplacement(live, desired, deps.fieldManager), {
    fieldManager: deps.fieldManager,
  });
  deps.children.get('Deployment')?.upsert({ ...stored, apiVersion: desired.apiVersion, kind: 'Deployment' });
  wrote.push(`Deployment reverted (${added} was added by another writer)`);
  return stored as DeploymentState;
}

async function deleteUnwanted(
  deps: ServerSyncDeps,
  live: ReadonlyMap<string, KubeObject>,
  desiredKinds: ReadonlySet<string>,
  wrote: string[],
): Promise<void> {
  for (const [kind, object] of live) {
    if (desiredKinds.has(kind)) continue;
    const r = resourceOf(object.apiVersion ?? '', kind);
    if (!r) continue;
    await deps.client.delete(r, object.metadata.namespace, object.metadata.name);
    wrote.push(`${kind} deleted`);
  }
}

async function writeStatus(deps: ServerSyncDeps, server: McpServer, status: McpServerStatus): Promise<void> {
  if (deepEqual(status, server.status ?? {})) return;
  const becameReady =
    isTrue(status.conditions, ServerCondition.Ready) &&
    !isTrue(server.status?.conditions, ServerCondition.Ready);
  const result = await deps.client.apply<McpServer>(
    {
      apiVersion: server.apiVersion,
      kind: server.kind,
      metadata: { name: server.metadata.name, namespace: server.metadata.namespace },
      status,
    },
    { fieldManager: deps.fieldManager, force: true, subresource: 'status' },
  );
  deps.servers.upsert({ ...result, apiVersion: server.apiVersion, kind: server.kind });
  if (becameReady) deps.events.record(server, 'Normal', 'Ready', 'Reconcile', `Serving at ${status.url}`);
}
