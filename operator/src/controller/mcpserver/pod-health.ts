import { LABELS } from '../../api/group.ts';
import type { KubeObject } from '../../kube/object.ts';
import type { StoreEvent } from '../../kube/store.ts';
import { APP_NAME } from '../../render/meta.ts';

// Why a server's pods are not available, read from the pods themselves (the kubelet's waiting
// reasons in the container statuses, the scheduler's PodScheduled condition, an evicted pod's
// reason) rather than from Events: the pods are watched anyway, by label, and Events are many,
// late and expire. Pure functions over a trimmed pod, so the cache keeps only what is read here.

interface ContainerStatus {
  name: string;
  ready?: boolean;
  state?: { waiting?: { reason?: string; message?: string } };
  lastState?: { terminated?: { reason?: string; exitCode?: number } };
}

interface PodCondition {
  type: string;
  status: string;
  reason?: string;
  message?: string;
}

/** The parts of a Pod that pod health reads; everything else is dropped from the cache. */
export interface PodView extends KubeObject {
  status?: {
    phase?: string;
    reason?: string;
    message?: string;
    conditions?: PodCondition[];
    containerStatuses?: ContainerStatus[];
  };
}

/** A cause of unavailability with the number of pods showing it. */
export interface PodProblem {
  /** CamelCase, usable as a condition reason: the kubelet's or scheduler's own word. */
  reason: string;
  message: string;
  pods: number;
}

/** Waiting reasons that do not pass by themselves; ContainerCreating and PodInitializing do. */
const FAILING_WAITS = new Set([
  'CrashLoopBackOff',
  'ImagePullBackOff',
  'ErrImagePull',
  'ErrImageNeverPull',
  'InvalidImageName',
  'CreateContainerConfigError',
  'CreateContainerError',
  'RunContainerError',
]);

/** At most this many distinct causes are named; the rest are counted. */
const MAX_NAMED = 3;
const MAX_MESSAGE = 300;
/** What a condition reason may be (the CRD's pattern, narrowed). */
const CAMEL_CASE = /^[A-Za-z][A-Za-z0-9]*$/;

export function trimPod(pod: KubeObject): PodView {
  const p = pod as PodView;
  const s = p.status ?? {};
  const meta = p.metadata;
  return {
    apiVersion: p.apiVersion,
    kind: p.kind,
    metadata: {
      name: meta.name,
      namespace: meta.namespace,
      resourceVersion: meta.resourceVersion,
      labels: meta.labels,
      ...(meta.deletionTimestamp ? { deletionTimestamp: meta.deletionTimestamp } : {}),
    },
    status: {
      phase: s.phase,
      ...(s.reason ? { reason: s.reason, message: s.message } : {}),
      conditions: (s.conditions ?? [])
        .filter((c) => c.type === 'PodScheduled' || c.type === 'Ready')
        .map(({ type, status, reason, message }) => ({ type, status, reason, message })),
      containerStatuses: (s.containerStatuses ?? []).map((c) => ({
        name: c.name,
        ready: c.ready,
        ...(c.state?.waiting ? { state: { waiting: c.state.waiting } } : {}),
        ...(c.lastState?.terminated
          ? {
              lastState: {
                terminated: {
                  reason: c.lastState.terminated.reason,
                  exitCode: c.lastState.terminated.exitCode,
                },
              },
            }
          : {}),
      })),
    },
  };
}

/** The McpServer a rendered pod belongs to, from the labels the operator put on its template. */
export function serverKeyOfPod(pod: KubeObject): string | undefined {
  const labels = pod.metadata.labels ?? {};
  const instance = labels[LABELS.instance];
  return labels[LABELS.name] === APP_NAME && instance && pod.metadata.namespace
    ? `${pod.metadata.namespace}/${instance}`
    : undefined;
}

const oneLine = (s: string | undefined) => (s ?? '').replace(/\s+/g, ' ').trim().slice(0, MAX_MESSAGE);

/** What keeps one pod from being available, if anything known does. */
export function problemsOf(pod: PodView): { reason: string; message: string }[] {
  if (pod.metadata.deletionTimestamp) return [];
  const s = pod.status ?? {};
  if (s.phase === 'Failed') {
    const reason = s.reason && CAMEL_CASE.test(s.reason) ? s.reason : 'PodFailed';
    return [{ reason, message: `pod ${pod.metadata.name} ${reason}: ${oneLine(s.message) || 'it failed'}` }];
  }
  const scheduled = s.conditions?.find((c) => c.type === 'PodScheduled');
  if (scheduled?.status === 'False' && scheduled.reason === 'Unschedulable') {
    return [{ reason: 'Unschedulable', message: oneLine(scheduled.message) }];
  }
  const problems: { reason: string; message: string }[] = [];
  for (const c of s.containerStatuses ?? []) {
    const waiting = c.state?.waiting;
    if (!waiting?.reason || !FAILING_WAITS.has(waiting.reason)) continue;
    const last = c.lastState?.terminated;
    const exit = last ? ` (last exit: ${last.reason ?? 'terminated'}, code ${last.exitCode ?? '?'})` : '';
    const detail = oneLine(waiting.message);
    problems.push({
      reason: waiting.reason,
      message: `container ${c.name} ${waiting.reason}${detail ? `: ${detail}` : ''}${exit}`,
    });
  }
  return problems;
}

/** Distinct causes over a server's pods, most frequent first (then by text, so the order is stable). */
export function podProblems(pods: readonly PodView[]): PodProblem[] {
  const byText = new Map<string, PodProblem>();
  for (const pod of pods) {
    for (const p of problemsOf(pod)) {
      const key = `${p.reason}\n${p.message}`;
      const known = byText.get(key);
      if (known) known.pods += 1;
      else byText.set(key, { ...p, pods: 1 });
    }
  }
  return [...byText.values()].sort(
    (a, b) => b.pods - a.pods || a.reason.localeCompare(b.reason) || a.message.localeCompare(b.message),
  );
}

/** One sentence for a condition message: the named causes, and how many more there are. */
export function describeProblems(problems: readonly PodProblem[]): string {
  const named = problems
    .slice(0, MAX_NAMED)
    .map((p) => `${p.message}${p.pods > 1 ? ` (${p.pods} pods)` : ''}`);
  const more = problems.length - named.length;
  return `${named.join('; ')}${more > 0 ? `; and ${more} more` : ''}`;
}

/**
 * A pod event matters to its server when what status reads from the pod changed: its causes, its
 * readiness, or its existence. Most pod updates (IPs, timestamps, restarts of a healthy pod) do not.
 */
export function podEventMatters(event: StoreEvent<PodView>): boolean {
  if (event.type !== 'update') return true;
  return digest(event.old) !== digest(event.object);
}

function digest(pod: PodView): string {
  const ready = pod.status?.conditions?.find((c) => c.type === 'Ready')?.status;
  return JSON.stringify([ready, pod.metadata.deletionTimestamp ?? '', problemsOf(pod)]);
}
