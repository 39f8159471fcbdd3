import type { KubeObject } from './object.ts';
import type { StoreEvent } from './store.ts';

// Which changes of an object are worth a reconcile. An operator's own status writes come back as
// update events; reacting to them would loop, so each predicate names what it looks at instead.

/** Arrival, departure, or a spec change (a new metadata.generation); not status or metadata writes. */
export function specChanged(event: StoreEvent<KubeObject>): boolean {
  return event.type !== 'update' || event.old.metadata.generation !== event.object.metadata.generation;
}

/** specChanged, or its labels changed (what selects it), or its deletion started. */
export function specLabelsOrDeletionChanged(event: StoreEvent<KubeObject>): boolean {
  if (specChanged(event) || event.type !== 'update') return true;
  const a = event.old.metadata;
  const b = event.object.metadata;
  return (
    a.deletionTimestamp !== b.deletionTimestamp ||
    JSON.stringify(a.labels ?? {}) !== JSON.stringify(b.labels ?? {})
  );
}
