import { LABELS, MANAGED_BY } from '../api/group.ts';
import type { KubeObject, OwnerReference } from '../kube/object.ts';

// Every child carries the managed-by label (the child informers watch only those) and a controller
// owner reference to its McpServer (the garbage collector deletes it with the server). Renderers
// should set both; this makes sure, whatever they return.

export function ownerReferenceTo(owner: KubeObject): OwnerReference {
  return {
    apiVersion: owner.apiVersion ?? '',
    kind: owner.kind ?? '',
    name: owner.metadata.name,
    uid: owner.metadata.uid ?? '',
    controller: true,
    blockOwnerDeletion: true,
  };
}

export function withOwnership<T extends KubeObject>(child: T, owner: KubeObject): T {
  const ref = ownerReferenceTo(owner);
  const refs = child.metadata.ownerReferences ?? [];
  const ownerReferences = refs.some((r) => r.uid === ref.uid)
    ? refs
    : [...refs.filter((r) => !r.controller), ref];
  return {
    ...child,
    metadata: {
      ...child.metadata,
      namespace: child.metadata.namespace ?? owner.metadata.namespace,
      labels: { ...child.metadata.labels, [LABELS.managedBy]: MANAGED_BY },
      ownerReferences,
    },
  };
}

/** Whether `child` is controlled by `owner` itself (by uid: a namesake that replaced it does not count). */
export function isControlledBy(child: KubeObject, owner: KubeObject): boolean {
  const uid = owner.metadata.uid;
  return (
    uid !== undefined && (child.metadata.ownerReferences ?? []).some((r) => r.controller && r.uid === uid)
  );
}

/** Who controls an object, for a message: its controller owner, or that nothing does. */
export function controllerOf(object: KubeObject): string {
  const owner = object.metadata.ownerReferences?.find((r) => r.controller);
  return owner
    ? `it is controlled by ${owner.kind} ${owner.name} (uid ${owner.uid})`
    : 'it has no controller';
}

export const MANAGED_SELECTOR = `${LABELS.managedBy}=${MANAGED_BY}`;
