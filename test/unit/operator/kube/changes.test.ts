import { describe, expect, it } from 'vitest';
import { specChanged, specLabelsOrDeletionChanged } from '../../../../operator/src/kube/changes.ts';
import type { KubeObject } from '../../../../operator/src/kube/object.ts';

const obj = (generation = 1, labels: Record<string, string> = {}, extra: object = {}): KubeObject => ({
  metadata: { name: 'a', namespace: 'team', generation, labels },
  ...extra,
});

describe('specLabelsOrDeletionChanged (McpServer events, for both controllers)', () => {
  it.each([
    { name: 'a new object', event: { type: 'add' as const, object: obj() }, matters: true },
    { name: 'a deleted object', event: { type: 'delete' as const, object: obj() }, matters: true },
    {
      name: 'a spec change (generation)',
      event: { type: 'update' as const, old: obj(), object: obj(2) },
      matters: true,
    },
    {
      name: 'a label change (policy selection)',
      event: { type: 'update' as const, old: obj(), object: obj(1, { team: 'x' }) },
      matters: true,
    },
    {
      name: 'its deletion starting',
      event: {
        type: 'update' as const,
        old: obj(),
        object: { ...obj(), metadata: { ...obj().metadata, deletionTimestamp: '2026-12-05T07:00:00Z' } },
      },
      matters: true,
    },
    {
      name: 'our own status write',
      event: { type: 'update' as const, old: obj(), object: obj(1, {}, { status: { phase: 'Ready' } }) },
      matters: false,
    },
  ])('$name: $matters', ({ event, matters }) => {
    expect(specLabelsOrDeletionChanged(event)).toBe(matters);
  });
});

describe('specChanged (McpPolicy events)', () => {
  it.each([
    { name: 'spec change', event: { type: 'update' as const, old: obj(), object: obj(2) }, matters: true },
    {
      name: 'status-only change',
      event: { type: 'update' as const, old: obj(), object: obj(1, {}, { status: {} }) },
      matters: false,
    },
    {
      name: 'a label change alone',
      event: { type: 'update' as const, old: obj(), object: obj(1, { team: 'x' }) },
      matters: false,
    },
    { name: 'creation', event: { type: 'add' as const, object: obj() }, matters: true },
    { name: 'deletion', event: { type: 'delete' as const, object: obj() }, matters: true },
  ])('$name: $matters', ({ event, matters }) => {
    expect(specChanged(event)).toBe(matters);
  });
});
