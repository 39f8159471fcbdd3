import type { KubeObject, ManagedFieldsEntry } from '../kube/object.ts';

// Drift by addition in a pod template. Server-side apply owns only the fields the operator set, so
// a field someone else adds (a container, a volume, a mount of the sidecar's token into the MCP
// container, hostPID, envFrom ...) is theirs and survives every apply. Such a field shows up as a
// field of the pod template that another writer's managedFields entry owns and ours does not;
// comparing ownership rather than values leaves alone what Kubernetes defaults (defaults belong to
// no writer). The fix replaces the template with the desired one in a single update (see
// templateReplacement): a forced apply cannot remove another writer's fields, and delete and
// recreate would take every pod down at once.

type FieldSet = Record<string, unknown>;

const TEMPLATE = ['f:spec', 'f:template'];

/** `kubectl rollout restart` marks the template with this annotation: a restart, not drift. */
const RESTARTED_AT = ['f:metadata', 'f:annotations', 'f:kubectl.kubernetes.io/restartedAt'];
const RESTARTED_AT_ANNOTATION = 'kubectl.kubernetes.io/restartedAt';

const isFieldSet = (v: unknown): v is FieldSet => typeof v === 'object' && v !== null && !Array.isArray(v);

const isOurs = (e: ManagedFieldsEntry, manager: string) =>
  e.manager === manager && e.operation === 'Apply' && !e.subresource;

function at(fields: unknown, path: readonly string[]): FieldSet | undefined {
  let node = fields;
  for (const key of path) {
    if (!isFieldSet(node)) return undefined;
    node = node[key];
  }
  return isFieldSet(node) ? node : undefined;
}

/**
 * Paths of the fields a field set owns: leaves, and list elements marked '.' (the element itself).
 * A map or struct marked '.' that has owned children is judged by its children.
 */
function* ownedPaths(fields: FieldSet, path: string[] = []): Generator<string[]> {
  const children = Object.entries(fields).filter(([k]) => k !== '.');
  const element = /^[kv]:/.test(path.at(-1) ?? '');
  if (children.length === 0 || (element && '.' in fields)) yield path;
  for (const [key, child] of children) if (isFieldSet(child)) yield* ownedPaths(child, [...path, key]);
}

const startsWith = (path: readonly string[], prefix: readonly string[]) =>
  prefix.every((key, i) => path[i] === key);

/** 'f:spec.k:{"name":"x"}.f:image' -> 'spec.[name=x].image', for messages. */
function readable(path: readonly string[]): string {
  return path
    .map((k) => {
      if (k.startsWith('f:')) return k.slice(2);
      if (!k.startsWith('k:')) return k;
      try {
        return `[${Object.entries(JSON.parse(k.slice(2)) as Record<string, unknown>)
          .map(([name, value]) => `${name}=${String(value)}`)
          .join(',')}]`;
      } catch {
        return k;
      }
    })
    .join('.');
}

/**
 * The first field of the pod template that another writer added (owned by them, not by our apply),
 * as a readable path from the template; undefined when there is none.
 */
export function foreignTemplateField(object: KubeObject, manager: string): string | undefined {
  const entries = object.metadata.managedFields ?? [];
  const ours = at(entries.find((e) => isOurs(e, manager))?.fieldsV1, TEMPLATE) ?? {};
  for (const entry of entries) {
    if (isOurs(entry, manager) || entry.subresource) continue;
    const theirs = at(entry.fieldsV1, TEMPLATE);
    if (!theirs) continue;
    for (const path of ownedPaths(theirs)) {
      if (path.length === 0 || startsWith(path, RESTARTED_AT)) continue;
      if (!at(ours, path)) return `spec.template.${readable(path)}`;
    }
  }
  return undefined;
}

/** fieldsV1 without the pod template, except a rollout restart's mark; undefined when nothing is left. */
function withoutTemplate(fields: FieldSet | undefined): FieldSet | undefined {
  const template = at(fields, TEMPLATE);
  if (!fields || !template) return fields;
  const restartedAt = at(template, RESTARTED_AT);
  const spec = { ...(fields['f:spec'] as FieldSet) };
  if (restartedAt) {
    spec['f:template'] = {
      'f:metadata': { 'f:annotations': { 'f:kubectl.kubernetes.io/restartedAt': restartedAt } },
    };
  } else delete spec['f:template'];
  const { 'f:spec': _old, ...others } = fields;
  const rest: FieldSet = Object.keys(spec).length === 0 ? others : { ...others, 'f:spec': spec };
  return Object.keys(rest).length === 0 ? undefined : rest;
}

/**
 * What the operator keeps of a child's managedFields: its own apply entry (apply-decision.ts
 * compares it) and the pod-template part of every other writer's entry (foreignTemplateField reads
 * it); the rest of other writers' entries is dropped to keep the caches small.
 */
export function trimManagedFields(
  entries: readonly ManagedFieldsEntry[],
  manager: string,
): ManagedFieldsEntry[] {
  const kept: ManagedFieldsEntry[] = [];
  for (const e of entries) {
    if (isOurs(e, manager)) kept.push(e);
    else if (!e.subresource) {
      const template = at(e.fieldsV1, TEMPLATE);
      if (template)
        kept.push({
          manager: e.manager,
          operation: e.operation,
          fieldsV1: { 'f:spec': { 'f:template': template } },
        });
    }
  }
  return kept;
}

interface WithTemplate extends KubeObject {
  spec?: { template?: { metadata?: { annotations?: Record<string, string> } } & Record<string, unknown> };
}

/**
 * The live object with the desired pod template (a rollout restart's mark carried over), and other
 * writers' claims on the template dropped from managedFields: an update keeps the claims on fields
 * whose value it leaves alone (a default someone wrote explicitly), and those would read as drift
 * again at once. The update carries the live resourceVersion, so a concurrent write makes it fail
 * with a conflict (retried) instead of being overwritten.
 */
export function templateReplacement(live: KubeObject, desired: KubeObject, manager: string): KubeObject {
  const current = live as WithTemplate;
  const template = structuredClone((desired as WithTemplate).spec?.template ?? {});
  const restartedAt = current.spec?.template?.metadata?.annotations?.[RESTARTED_AT_ANNOTATION];
  if (restartedAt) {
    template.metadata = {
      ...template.metadata,
      annotations: { ...template.metadata?.annotations, [RESTARTED_AT_ANNOTATION]: restartedAt },
    };
  }
  const managedFields = (live.metadata.managedFields ?? []).flatMap((e) => {
    if (isOurs(e, manager) || e.subresource) return [e];
    const fieldsV1 = withoutTemplate(e.fieldsV1);
    return fieldsV1 ? [{ ...e, fieldsV1 }] : [];
  });
  return {
    ...live,
    metadata: { ...live.metadata, managedFields },
    spec: { ...(current.spec ?? {}), template },
  };
}
