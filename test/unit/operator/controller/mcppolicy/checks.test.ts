import { describe, expect, it } from 'vitest';
import { policyKeysForServerEvent } from '../../../../../operator/src/controller/mcppolicy/checks.ts';
import { policy, server } from '../builders.ts';

describe('server events', () => {
  it('a server event queues the policies of its namespace only', () => {
    const policies = [policy('a', {}), policy('b', {}), policy('c', {}, 1, [], 'other')];
    expect(policyKeysForServerEvent({ type: 'add', object: server('s') }, policies)).toEqual([
      'team/a',
      'team/b',
    ]);
  });
});
