// Status conditions (metav1.Condition) computed purely: the reconcile says what each condition is
// now; lastTransitionTime moves only when the status flips, so watchers can tell how long a server
// has been unready, and an unchanged status makes an identical condition list (and no write).

export type ConditionStatus = 'True' | 'False' | 'Unknown';

export interface Condition {
  type: string;
  status: ConditionStatus;
  reason: string;
  message: string;
  lastTransitionTime: string;
  observedGeneration?: number;
}

export type ConditionUpdate = Omit<Condition, 'lastTransitionTime'>;

/** Kubernetes timestamps have whole seconds (RFC 3339 without fraction). */
export function timestamp(now: Date): string {
  return `${now.toISOString().slice(0, 19)}Z`;
}

export function setCondition(previous: readonly Condition[], next: ConditionUpdate, now: Date): Condition[] {
  const old = previous.find((c) => c.type === next.type);
  const lastTransitionTime = old && old.status === next.status ? old.lastTransitionTime : timestamp(now);
  const condition: Condition = { ...next, lastTransitionTime };
  return old ? previous.map((c) => (c.type === next.type ? condition : c)) : [...previous, condition];
}

export function setConditions(
  previous: readonly Condition[],
  updates: readonly ConditionUpdate[],
  now: Date,
): Condition[] {
  let conditions = [...previous];
  for (const update of updates) conditions = setCondition(conditions, update, now);
  return conditions;
}

export function findCondition(conditions: readonly Condition[] | undefined, type: string) {
  return conditions?.find((c) => c.type === type);
}

export function isTrue(conditions: readonly Condition[] | undefined, type: string): boolean {
  return findCondition(conditions, type)?.status === 'True';
}
