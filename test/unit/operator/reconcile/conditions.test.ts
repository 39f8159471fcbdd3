import { describe, expect, it } from 'vitest';
import { type Condition, setCondition, timestamp } from '../../../../operator/src/reconcile/conditions.ts';

const t0 = new Date('2026-01-01T10:00:00.123Z');
const t1 = new Date('2026-01-01T10:05:00.456Z');

const ready = (status: Condition['status'], at = timestamp(t0), message = 'm'): Condition => ({
  type: 'Ready',
  status,
  reason: status === 'True' ? 'Available' : 'Progressing',
  message,
  lastTransitionTime: at,
  observedGeneration: 1,
});

describe('setCondition', () => {
  it.each([
    {
      name: 'a new condition gets the current time',
      before: [],
      next: { ...ready('False'), lastTransitionTime: undefined },
      time: timestamp(t1),
    },
    {
      name: 'the same status keeps the old transition time',
      before: [ready('False')],
      next: ready('False'),
      time: timestamp(t0),
    },
    {
      name: 'a changed message alone keeps the old transition time',
      before: [ready('False')],
      next: ready('False', undefined, 'other'),
      time: timestamp(t0),
    },
    {
      name: 'a flip of status moves the transition time',
      before: [ready('False')],
      next: ready('True'),
      time: timestamp(t1),
    },
    {
      name: 'Unknown to True is a flip',
      before: [ready('Unknown')],
      next: ready('True'),
      time: timestamp(t1),
    },
  ])('$name', ({ before, next, time }) => {
    const { lastTransitionTime: _, ...update } = next;
    const after = setCondition(before, update, t1);
    expect(after).toHaveLength(1);
    expect(after[0]?.lastTransitionTime).toBe(time);
    expect(after[0]?.status).toBe(next.status);
  });

  it('keeps the other conditions and their order', () => {
    const degraded: Condition = { ...ready('False'), type: 'Degraded', reason: 'AsExpected' };
    const after = setCondition(
      [ready('False'), degraded],
      { ...ready('True'), lastTransitionTime: undefined } as never,
      t1,
    );
    expect(after.map((c) => c.type)).toEqual(['Ready', 'Degraded']);
    expect(after[1]).toEqual(degraded);
  });

  it('writes whole seconds, as Kubernetes timestamps have', () => {
    expect(timestamp(t0)).toBe('2026-01-01T10:00:00Z');
  });
});
