import { hashOf } from '../kube/json.ts';
import type { KubeObject, ManagedFieldsEntry } from '../kube/object.ts';

// Whether a child object must be applied, decided without writing, so a resync of an unchanged
// cluster makes zero writes.
// - Intent: the applied manifest's hash is stored in an annotation; a different desired hash means
//   our intent changed.
// - Drift: server-side apply records which fields each manager owns. When anyone else changes or
//   removes a field we applied, the API server moves that field out of our managedFields entry, so
//   "every field of the desired manifest is still ours" means the live object still holds our
//   values. Comparing ownership instead of values avoids false drift from the API server's
//   normalisation (defaults, quantities like 500m vs 0.5).

export const APPLIED_HASH_ANNOTATION = 'portcullis.dev/applied-hash';

export type ApplyDecision =
  | { apply: false }
  | { apply: true; reason: 'Missing' | 'IntentChanged' | 'NotManaged' | 'Drifted'; detail: string };

/** A copy of the manifest with the hash of its content in the applied-hash annotation. */
export function withAppliedHash<T extends KubeObject>(desired: T): T {
  const annotations = { ...desired.metadata.annotations };
  delete annotations[APPLIED_HASH_ANNOTATION];
  const bare = { ...desired, metadata: { ...desired.metadata, annotations } };
  const hash = hashOf(bare);
  return {
    ...desired,
    metadata: { ...desired.metadata, annotations: { ...annotations, [APPLIED_HASH_ANNOTATION]: hash } },
  };
}

export function applyDecision(
  desired: KubeObject,
  live: KubeObject | undefined,
  fieldManager: string,
): ApplyDecision {
  if (!live) return { apply: true, reason: 'Missing', detail: 'the object does not exist' };
  const want = desired.metadata.annotations?.[APPLIED_HASH_ANNOTATION];
  const have = live.metadata.annotations?.[APPLIED_HASH_ANNOTATION];
  if (want !== have) return { apply: true, reason: 'IntentChanged', detail: 'the desired state changed' };
  const ours = ownEntry(live.metadata.managedFields, fieldManager);
  if (!ours?.fieldsV1) {
    return { apply: true, reason: 'NotManaged', detail: `no fields are managed by ${fieldManager}` };
  }
  const lost = firstUnowned(stripIdentity(desired), ours.fieldsV1, '');
  return lost === undefined
    ? { apply: false }
    : { apply: true, reason: 'Drifted', detail: `${lost} was changed by another writer` };
}

function ownEntry(entries: readonly ManagedFieldsEntry[] | undefined, manager: string) {
  return entries?.find((e) => e.manager === manager && e.operation === 'Apply' && !e.subresource);
}

/** apiVersion, kind, metadata.name and metadata.namespace identify the object; they are not fields. */
function stripIdentity(desired: KubeObject): Record<string, unknown> {
  const { apiVersion: _v, kind: _k, metadata, ...rest } = desired;
  const { name: _n, namespace: _ns, ...meta } = metadata;
  return Object.keys(meta).length > 0 ? { ...rest, metadata: meta } : rest;
}

type FieldSet = Record<string, unknown>;

/** Path of the first field of value not in the field set, or undefined when all are owned. */
export function firstUnowned(value: unknown, fields: FieldSet, path: string): string | undefined {
  if (value === null || value === undefined || typeof value !== 'object') return undefined;
  // A node without children is a leaf: an atomic map, struct or list element owned as a whole.
  if (Object.keys(fields).every((k) => k === '.')) return undefined;
  if (Array.isArray(value)) return firstUnownedInList(value, fields, path);
  for (const [key, child] of Object.entries(value)) {
    if (child === undefined || child === null) continue;
    const node = fields[`f:${key}`];
    const childPath = path ? `${path}.${key}` : key;
    if (node === undefined || node === null || typeof node !== 'object') return childPath;
    const lost = firstUnowned(child, node as FieldSet, childPath);
    if (lost !== undefined) return lost;
  }
  return undefined;
}

function firstUnownedInList(list: readonly unknown[], fields: FieldSet, path: string): string | undefined {
  const keys = Object.keys(fields).filter((k) => k !== '.');
  for (const [i, element] of list.entries()) {
    const elementPath = `${path}[${i}]`;
    const setKey = `v:${JSON.stringify(element)}`;
    if (keys.includes(setKey)) continue;
    const entry = keys.find((k) => k.startsWith('k:') && keyMatches(k, element));
    if (entry === undefined) {
      if (keys.some((k) => k.startsWith('k:') || k.startsWith('v:'))) return elementPath;
      continue;
    }
    const lost = firstUnowned(element, fields[entry] as FieldSet, elementPath);
    if (lost !== undefined) return lost;
  }
  return undefined;
}

/** 'k:{"name":"mcp"}' matches an element whose key fields have those values. */
function keyMatches(entry: string, element: unknown): boolean {
  if (element === null || typeof element !== 'object') return false;
  let key: Record<string, unknown>;
  try {
    key = JSON.parse(entry.slice(2)) as Record<string, unknown>;
  } catch {
    return false;
  }
  const el = element as Record<string, unknown>;
  // Keys the API server defaulted (e.g. protocol: TCP on ports) may be absent from our manifest.
  return Object.entries(key).every(([k, v]) =>
    el[k] === undefined ? k === 'protocol' : String(el[k]) === String(v),
  );
}
