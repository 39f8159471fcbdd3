import { describe, expect, it } from 'vitest';
import type { McpPolicy } from '../../../../../operator/src/api/mcp-policy.ts';
import {
  policyVersionChanged,
  serverKeysForChildEvent,
  serverKeysForPolicyEvent,
} from '../../../../../operator/src/controller/mcpserver/checks.ts';
import { acceptedSpecOf } from '../../../../../operator/src/policy/accepted.ts';
import { child, policy, server } from '../builders.ts';

describe('serverKeysForChildEvent', () => {
  it.each([
    {
      name: 'a Deployment of a server queues that server',
      object: child('Deployment', 'a', { kind: 'McpServer', name: 'a' }),
      keys: ['team/a'],
    },
    {
      name: 'a deleted Service queues its server',
      object: child('Service', 'b', { kind: 'McpServer', name: 'b' }),
      type: 'delete' as const,
      keys: ['team/b'],
    },
    { name: 'an object without owner queues nothing', object: child('ConfigMap', 'c'), keys: [] },
    {
      name: 'an object owned by another kind queues nothing',
      object: child('ConfigMap', 'd', { kind: 'Other', name: 'd' }),
      keys: [],
    },
  ])('$name', ({ object, type, keys }) => {
    const event = type === 'delete' ? { type, object } : { type: 'add' as const, object };
    expect(serverKeysForChildEvent(event)).toEqual(keys);
  });
});

describe('policy events', () => {
  const servers = [
    server('pay-1', { team: 'payments' }),
    server('pay-2', { team: 'payments' }),
    server('web', { team: 'web' }),
  ];

  it.each([
    {
      name: 'a new policy queues the servers it selects',
      event: { type: 'add' as const, object: policy('p', { team: 'payments' }) },
      keys: ['team/pay-1', 'team/pay-2'],
    },
    {
      name: 'a selector change queues servers selected before and after',
      event: {
        type: 'update' as const,
        old: policy('p', { team: 'payments' }),
        object: policy('p', { team: 'web' }, 2),
      },
      keys: ['team/pay-1', 'team/pay-2', 'team/web'],
    },
    {
      name: 'a deleted policy queues the servers it selected',
      event: { type: 'delete' as const, object: policy('p', { team: 'web' }) },
      keys: ['team/web'],
    },
    {
      name: 'a policy selecting nobody queues nothing',
      event: { type: 'add' as const, object: policy('p', { team: 'none' }) },
      keys: [],
    },
    {
      name: 'a policy also queues the servers its last accepted version selects',
      event: { type: 'add' as const, object: recorded(policy('p', { team: 'none' }, 2), { team: 'web' }) },
      keys: ['team/web'],
    },
    {
      name: 'a policy whose selector is invalid may govern every server of its namespace',
      event: {
        type: 'add' as const,
        object: { ...policy('p', {}), spec: { servers: { matchLabels: { 'bad key!': 'x' } }, rules: [] } },
      },
      keys: ['team/pay-1', 'team/pay-2', 'team/web'],
    },
    {
      name: 'a policy in another namespace queues nothing here',
      event: { type: 'add' as const, object: policy('p', { team: 'web' }, 1, [], 'other') },
      keys: [],
    },
  ])('$name', ({ event, keys }) => {
    expect(serverKeysForPolicyEvent(event, servers)).toEqual(keys);
  });

  it.each([
    {
      name: 'a newly recorded accepted version',
      event: { type: 'update' as const, old: policy('p', {}), object: recorded(policy('p', {}), {}) },
      changed: true,
    },
    {
      name: 'another status write',
      event: {
        type: 'update' as const,
        old: recorded(policy('p', {}), {}),
        object: recorded(policy('p', {}), {}),
      },
      changed: false,
    },
  ])('policyVersionChanged: $name', ({ event, changed }) => {
    expect(policyVersionChanged(event)).toBe(changed);
  });
});

/** The policy with status.lastAccepted recording a version that selected `labels`. */
function recorded(p: McpPolicy, labels: Record<string, string>): McpPolicy {
  return { ...p, status: { lastAccepted: acceptedSpecOf(policy(p.metadata.name, labels)) } };
}
