import { describe, expect, it } from 'vitest';
import { type LeaseSpec, nextLeaseStep, recordOf } from '../../../../operator/src/leader/lease-decision.ts';

const now = new Date('2026-03-01T12:00:30Z');
const at = (iso: string) => new Date(iso).getTime();
const held = (holder: string, renewTime = '2026-03-01T12:00:00.000000Z', transitions = 2): LeaseSpec => ({
  holderIdentity: holder,
  leaseDurationSeconds: 15,
  renewTime,
  leaseTransitions: transitions,
});

describe('nextLeaseStep', () => {
  it.each([
    { name: 'no lease: create it', spec: undefined, exists: false, observedAt: undefined, action: 'create' },
    {
      name: 'we hold it: renew',
      spec: held('me'),
      exists: true,
      observedAt: at('2026-03-01T12:00:29Z'),
      action: 'renew',
    },
    {
      name: 'another holder, seen renewing recently: wait',
      spec: held('other'),
      exists: true,
      observedAt: at('2026-03-01T12:00:20Z'),
      action: 'wait',
    },
    {
      name: 'another holder, unchanged for longer than the lease: take over',
      spec: held('other'),
      exists: true,
      observedAt: at('2026-03-01T12:00:10Z'),
      action: 'take',
    },
    {
      name: 'another holder, first seen just now: wait a full duration (clock skew safe)',
      spec: held('other', '2020-01-01T00:00:00.000000Z'),
      exists: true,
      observedAt: undefined,
      action: 'wait',
    },
    {
      name: 'released (no holder): take at once',
      spec: held(''),
      exists: true,
      observedAt: undefined,
      action: 'take',
    },
  ])('$name', ({ spec, exists, observedAt, action }) => {
    const observed = observedAt === undefined ? undefined : { record: recordOf(spec), at: observedAt };
    expect(nextLeaseStep(spec, exists, 'me', 15, observed, now).action).toBe(action);
  });

  it('a takeover counts a transition and stamps acquire and renew times', () => {
    const step = nextLeaseStep(
      held('other'),
      true,
      'me',
      15,
      { record: recordOf(held('other')), at: 0 },
      now,
    );
    expect(step).toEqual({
      action: 'take',
      spec: {
        holderIdentity: 'me',
        leaseDurationSeconds: 15,
        acquireTime: '2026-03-01T12:00:30.000000Z',
        renewTime: '2026-03-01T12:00:30.000000Z',
        leaseTransitions: 3,
      },
    });
  });
});
