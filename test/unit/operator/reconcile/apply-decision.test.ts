import { describe, expect, it } from 'vitest';
import type { KubeObject, ManagedFieldsEntry } from '../../../../operator/src/kube/object.ts';
import {
  APPLIED_HASH_ANNOTATION,
  applyDecision,
  withAppliedHash,
} from '../../../../operator/src/reconcile/apply-decision.ts';

const MANAGER = 'portcullis-operator';

// A small Deployment as the renderer would produce it.
const desired = (image = 'mcp:1'): KubeObject =>
  withAppliedHash({
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: {
      name: 'echo',
      namespace: 'team',
      labels: { app: 'echo' },
      ownerReferences: [
        {
          apiVersion: 'portcullis.dev/v1alpha1',
          kind: 'McpServer',
          name: 'echo',
          uid: 'u0',
          controller: true,
        },
      ],
    },
    spec: {
      replicas: 2,
      selector: { matchLabels: { app: 'echo' } },
      template: {
        spec: {
          containers: [
            { name: 'mcp', image, ports: [{ containerPort: 3000 }] },
            { name: 'sidecar', image: 'portcullis:1', args: ['--config', '/etc/c.json'] },
          ],
        },
      },
    },
  });

// The fields server-side apply records as ours after applying `desired()`.
const ownedFields = (): Record<string, unknown> => ({
  'f:metadata': {
    'f:labels': { 'f:app': {} },
    'f:annotations': { [`f:${APPLIED_HASH_ANNOTATION}`]: {} },
    // atomic list elements and atomic maps are leaves: owned as a whole
    'f:ownerReferences': { 'k:{"uid":"u0"}': {} },
  },
  'f:spec': {
    'f:replicas': {},
    'f:selector': {},
    'f:template': {
      'f:spec': {
        'f:containers': {
          'k:{"name":"mcp"}': {
            '.': {},
            'f:name': {},
            'f:image': {},
            'f:ports': { 'k:{"containerPort":3000,"protocol":"TCP"}': { '.': {}, 'f:containerPort': {} } },
          },
          'k:{"name":"sidecar"}': { '.': {}, 'f:name': {}, 'f:image': {}, 'f:args': {} },
        },
      },
    },
  },
});

const entry = (fieldsV1: Record<string, unknown>, manager = MANAGER): ManagedFieldsEntry => ({
  manager,
  operation: 'Apply',
  apiVersion: 'apps/v1',
  fieldsType: 'FieldsV1',
  fieldsV1,
});

// The live object: what we applied plus API server defaults, with the given managedFields.
const live = (managedFields: ManagedFieldsEntry[], applied = desired()): KubeObject => ({
  ...applied,
  metadata: { ...applied.metadata, uid: 'u1', resourceVersion: '7', managedFields },
  status: { replicas: 2 },
});

const without = (fields: Record<string, unknown>, path: string[]): Record<string, unknown> => {
  const copy = structuredClone(fields);
  let node = copy;
  for (const key of path.slice(0, -1)) node = node[key] as Record<string, unknown>;
  delete node[path.at(-1) as string];
  return copy;
};

describe('applyDecision', () => {
  it.each([
    { name: 'nothing live: create', live: undefined, apply: true, reason: 'Missing' },
    { name: 'unchanged and every field ours: no write', live: live([entry(ownedFields())]), apply: false },
    {
      name: 'another manager also owning other fields: no write',
      live: live([
        entry(ownedFields()),
        entry({ 'f:metadata': { 'f:annotations': { 'f:x': {} } } }, 'kubectl'),
      ]),
      apply: false,
    },
    {
      name: 'desired image changed: apply',
      live: live([entry(ownedFields())], desired('mcp:0')),
      apply: true,
      reason: 'IntentChanged',
    },
    {
      name: 'hand edit took the image of the mcp container: revert',
      live: live([
        entry(
          without(ownedFields(), [
            'f:spec',
            'f:template',
            'f:spec',
            'f:containers',
            'k:{"name":"mcp"}',
            'f:image',
          ]),
        ),
      ]),
      apply: true,
      reason: 'Drifted',
    },
    {
      name: 'hand edit took replicas: revert',
      live: live([entry(without(ownedFields(), ['f:spec', 'f:replicas']))]),
      apply: true,
      reason: 'Drifted',
    },
    {
      name: 'a container removed by hand: revert',
      live: live([
        entry(
          without(ownedFields(), ['f:spec', 'f:template', 'f:spec', 'f:containers', 'k:{"name":"sidecar"}']),
        ),
      ]),
      apply: true,
      reason: 'Drifted',
    },
    {
      name: 'created by someone else (no entry of ours): take over',
      live: live([entry(ownedFields(), 'kubectl')]),
      apply: true,
      reason: 'NotManaged',
    },
  ])('$name', ({ live, apply, reason }) => {
    const decision = applyDecision(desired(), live, MANAGER);
    expect(decision.apply).toBe(apply);
    if (decision.apply) expect(decision.reason).toBe(reason);
  });

  it('names the drifted field so the event can say what was reverted', () => {
    const decision = applyDecision(
      desired(),
      live([entry(without(ownedFields(), ['f:spec', 'f:replicas']))]),
      MANAGER,
    );
    expect(decision).toMatchObject({ apply: true, detail: 'spec.replicas was changed by another writer' });
  });
});

describe('withAppliedHash', () => {
  it.each([
    { name: 'the same manifest hashes the same', a: desired(), b: desired(), equal: true },
    { name: 'a different image hashes differently', a: desired(), b: desired('mcp:2'), equal: false },
  ])('$name', ({ a, b, equal }) => {
    const ha = a.metadata.annotations?.[APPLIED_HASH_ANNOTATION];
    const hb = b.metadata.annotations?.[APPLIED_HASH_ANNOTATION];
    expect(ha).toMatch(/^[0-9a-f]{32}$/);
    expect(ha === hb).toBe(equal);
  });

  it('is stable when applied twice (the annotation is not part of the hash)', () => {
    expect(withAppliedHash(desired())).toEqual(desired());
  });
});
