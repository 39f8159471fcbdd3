import { ServerCondition, ServerReason } from '../../api/conditions.ts';
import type { McpServerStatus, ServerPhase } from '../../api/mcp-server.ts';
import { type Condition, type ConditionUpdate, setConditions } from '../../reconcile/conditions.ts';
import { describeProblems, type PodProblem } from './pod-health.ts';

// The McpServer status, computed purely from what the reconcile observed: checks in a fixed order
// (can it render? did the apply succeed? are the policies good? is the rollout done?) turn into
// conditions with a reason and a message a person can act on, then into a phase.

export interface DeploymentState {
  generation?: number;
  status?: {
    observedGeneration?: number;
    replicas?: number;
    updatedReplicas?: number;
    readyReplicas?: number;
    availableReplicas?: number;
    conditions?: { type: string; status: string; reason?: string; message?: string }[];
  };
}

export interface ServerObservation {
  name: string;
  generation: number;
  previous: McpServerStatus | undefined;
  url: string | undefined;
  /** Why the spec cannot be rendered, when it cannot. */
  renderError?: { reason: 'InvalidSpec' | 'Unsupported'; message: string };
  /** The API server's answer when a child was refused. */
  applyError?: string;
  /** A child's name is held by an object this server does not control (conflicts.ts). */
  conflict?: string;
  desiredReplicas: number;
  deployment: DeploymentState | undefined;
  /** Policies in force, by name; and those not accepted (at their last accepted generation, or failing closed). */
  policies: string[];
  rejectedPolicies: { name: string; message: string; keptGeneration?: number }[];
  /** Why pods are not available, read from the server's pods (pod-health.ts). */
  podProblems?: readonly PodProblem[];
}

interface Rollout {
  done: boolean;
  /** The Deployment finished rolling out its current template once: missing pods since were lost. */
  completed: boolean;
  available: number;
  ready: number;
  failed?: string;
}

export function rolloutOf(deployment: DeploymentState | undefined, desired: number): Rollout {
  const s = deployment?.status;
  const available = s?.availableReplicas ?? 0;
  const ready = s?.readyReplicas ?? 0;
  const current = (s?.observedGeneration ?? -1) >= (deployment?.generation ?? 0);
  const updated = s?.updatedReplicas ?? 0;
  const total = s?.replicas ?? 0;
  const done =
    deployment !== undefined && current && updated >= desired && total <= desired && available >= desired;
  const stuck = s?.conditions?.find(
    (c) =>
      (c.type === 'Progressing' && c.status === 'False') ||
      (c.type === 'ReplicaFailure' && c.status === 'True'),
  );
  const completed =
    current &&
    (s?.conditions ?? []).some(
      (c) => c.type === 'Progressing' && c.status === 'True' && c.reason === 'NewReplicaSetAvailable',
    );
  return {
    done,
    completed,
    available,
    ready,
    failed: stuck ? `${stuck.reason ?? stuck.type}: ${stuck.message ?? ''}` : undefined,
  };
}

function readyCondition(o: ServerObservation, rollout: Rollout, gen: number): ConditionUpdate {
  const c = (status: Condition['status'], reason: string, message: string): ConditionUpdate => ({
    type: ServerCondition.Ready,
    status,
    reason,
    message,
    observedGeneration: gen,
  });
  if (o.renderError)
    return c('False', o.renderError.reason, `${o.renderError.message}. Fix spec and apply again.`);
  if (o.conflict) return c('False', ServerReason.Conflict, `${o.conflict}.`);
  if (o.applyError) {
    return c('False', ServerReason.ApplyFailed, `The API server refused a child object: ${o.applyError}`);
  }
  if (o.desiredReplicas === 0) {
    return c(
      'False',
      ServerReason.ScaledToZero,
      'spec.hosted.replicas is 0; set it to 1 or more to serve calls.',
    );
  }
  const problems = o.podProblems ?? [];
  if (!rollout.done && problems.length > 0) {
    return c(
      'False',
      (problems[0] as PodProblem).reason,
      `${rollout.available} of ${o.desiredReplicas} pods available: ${describeProblems(problems)}.`,
    );
  }
  if (!rollout.done && rollout.completed) {
    const why = rollout.failed ? ` (${rollout.failed})` : '';
    return c(
      'False',
      ServerReason.ReplicasUnavailable,
      `${rollout.available} of ${o.desiredReplicas} pods available; pods were lost after the rollout completed${why}. See kubectl get pods -l app.kubernetes.io/instance=${o.name}.`,
    );
  }
  if (!rollout.done) {
    const why = rollout.failed
      ? ` The rollout is stuck (${rollout.failed}); see kubectl describe deployment ${o.name}.`
      : '';
    return c(
      'False',
      ServerReason.Progressing,
      `${rollout.available} of ${o.desiredReplicas} pods available; waiting for Deployment ${o.name} to roll out.${why}`,
    );
  }
  return c(
    'True',
    ServerReason.Available,
    `${rollout.available} of ${o.desiredReplicas} pods available at ${o.url}.`,
  );
}

/** What a server enforces for a policy that is not accepted (policy/accepted.ts). */
function inForceInstead(p: { keptGeneration?: number }): string {
  return p.keptGeneration === undefined
    ? 'never accepted: every call is denied'
    : `generation ${p.keptGeneration} stays in force`;
}

function policiesCondition(o: ServerObservation, gen: number): ConditionUpdate {
  const base = { type: ServerCondition.PoliciesResolved, observedGeneration: gen };
  if (o.rejectedPolicies.length > 0) {
    const list = o.rejectedPolicies.map((p) => `${p.name} (${p.message}; ${inForceInstead(p)})`).join('; ');
    return {
      ...base,
      status: 'False',
      reason: ServerReason.PolicyNotAccepted,
      message: `Not accepted: ${list}. Fix them (kubectl describe mcppolicy).`,
    };
  }
  if (o.policies.length === 0) {
    return {
      ...base,
      status: 'True',
      reason: ServerReason.NoPolicies,
      message:
        'No McpPolicy selects this server, so every call is denied. Create one whose spec.servers matches its labels.',
    };
  }
  return {
    ...base,
    status: 'True',
    reason: ServerReason.Resolved,
    message: `In force: ${o.policies.join(', ')}.`,
  };
}

function degradedCondition(o: ServerObservation, rollout: Rollout, gen: number): ConditionUpdate {
  const base = { type: ServerCondition.Degraded, observedGeneration: gen };
  const failure = o.renderError
    ? { reason: o.renderError.reason, message: o.renderError.message }
    : o.applyError
      ? { reason: ServerReason.ApplyFailed, message: o.applyError }
      : undefined;
  if (failure) {
    return {
      ...base,
      status: 'True',
      reason: failure.reason,
      message: `The desired state is not applied (${failure.message}); pods of the last applied spec, if any, keep running: ${rollout.available} of ${o.desiredReplicas} available.`,
    };
  }
  if (o.rejectedPolicies.length > 0) {
    return {
      ...base,
      status: 'True',
      reason: ServerReason.PolicyNotAccepted,
      message: `McpPolicy not accepted: ${o.rejectedPolicies.map((p) => `${p.name} (${inForceInstead(p)})`).join(', ')}.`,
    };
  }
  // A rollout in progress is not degradation; pods lost after it (all of them included), pods that
  // fail for a known cause, or a stuck rollout are.
  const problems = o.podProblems ?? [];
  const rolledOut = (o.deployment?.status?.updatedReplicas ?? 0) >= o.desiredReplicas;
  const short = o.deployment !== undefined && o.desiredReplicas > 0 && rollout.available < o.desiredReplicas;
  if (
    short &&
    (rollout.failed || problems.length > 0 || rollout.completed || (rolledOut && rollout.available > 0))
  ) {
    const causes = problems.length > 0 ? `: ${describeProblems(problems)}` : '';
    return {
      ...base,
      status: 'True',
      reason: problems[0]?.reason ?? ServerReason.ReplicasUnavailable,
      message: `${rollout.available} of ${o.desiredReplicas} pods available${causes}${rollout.failed ? ` (${rollout.failed})` : ''}; see kubectl describe deployment ${o.name}.`,
    };
  }
  const message =
    rollout.done || o.desiredReplicas === 0 ? 'Nothing is wrong.' : 'No fault seen while the pods start.';
  return { ...base, status: 'False', reason: ServerReason.Healthy, message };
}

export function phaseOf(conditions: readonly ConditionUpdate[], o: ServerObservation): ServerPhase {
  const get = (type: string) => conditions.find((c) => c.type === type);
  if (o.renderError || o.applyError || o.conflict) return 'Failed';
  // Not one pod serves, for a known cause: an outage, not a slow start.
  const rollout = rolloutOf(o.deployment, o.desiredReplicas);
  if (
    o.deployment &&
    o.desiredReplicas > 0 &&
    rollout.available === 0 &&
    ((o.podProblems ?? []).length > 0 || rollout.failed)
  ) {
    return 'Failed';
  }
  if (get(ServerCondition.Degraded)?.status === 'True') return 'Degraded';
  if (get(ServerCondition.Ready)?.status === 'True') return 'Ready';
  return o.deployment && o.desiredReplicas > 0 ? 'Progressing' : 'Pending';
}

export function serverStatus(o: ServerObservation, now: Date): McpServerStatus {
  const rollout = rolloutOf(o.deployment, o.desiredReplicas);
  const gen = o.generation;
  const updates = [
    readyCondition(o, rollout, gen),
    policiesCondition(o, gen),
    degradedCondition(o, rollout, gen),
  ];
  const policies = [...o.policies].sort();
  const status: McpServerStatus = {
    phase: phaseOf(updates, o),
    source: 'hosted',
    observedGeneration: gen,
    conditions: setConditions((o.previous?.conditions ?? []) as Condition[], updates, now),
    policies,
    // The POLICIES column: kubectl prints an array as JSON.
    ...(policies.length > 0 ? { policyNames: policies.join(', ') } : {}),
    replicas: o.deployment?.status?.replicas ?? 0,
    readyReplicas: rollout.ready,
  };
  if (o.url) status.url = o.url;
  return status;
}
