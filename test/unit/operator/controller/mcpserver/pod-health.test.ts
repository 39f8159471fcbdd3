import { describe, expect, it } from 'vitest';
import {
  describeProblems,
  type PodView,
  podEventMatters,
  podProblems,
  problemsOf,
  serverKeyOfPod,
  trimPod,
} from '../../../../../operator/src/controller/mcpserver/pod-health.ts';

const labels = { 'app.kubernetes.io/name': 'mcp-server', 'app.kubernetes.io/instance': 'echo' };

const pod = (name: string, status: PodView['status'], extra: Partial<PodView['metadata']> = {}): PodView => ({
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { name, namespace: 'team', labels, resourceVersion: '1', ...extra },
  status,
});

const running = (name = 'echo-1') =>
  pod(name, {
    phase: 'Running',
    conditions: [{ type: 'Ready', status: 'True' }],
    containerStatuses: [
      { name: 'mcp-server', ready: true },
      { name: 'portcullis-sidecar', ready: true },
    ],
  });

const waiting = (reason: string, message?: string, name = 'echo-1', exit?: number) =>
  pod(name, {
    phase: 'Running',
    conditions: [{ type: 'Ready', status: 'False', reason: 'ContainersNotReady' }],
    containerStatuses: [
      {
        name: 'mcp-server',
        ready: false,
        state: { waiting: { reason, message } },
        ...(exit === undefined ? {} : { lastState: { terminated: { reason: 'Error', exitCode: exit } } }),
      },
      { name: 'portcullis-sidecar', ready: true },
    ],
  });

describe('pod health', () => {
  it.each([
    { name: 'a running, ready pod', pod: running(), problems: [] },
    { name: 'a container being created', pod: waiting('ContainerCreating'), problems: [] },
    {
      name: 'a crash loop, with the last exit',
      pod: waiting('CrashLoopBackOff', 'back-off 5m0s restarting failed container', 'echo-1', 1),
      problems: [
        {
          reason: 'CrashLoopBackOff',
          message:
            'container mcp-server CrashLoopBackOff: back-off 5m0s restarting failed container (last exit: Error, code 1)',
        },
      ],
    },
    {
      name: 'an image that cannot be pulled',
      pod: waiting('ImagePullBackOff', 'Back-off pulling image "mcp/nope:1"'),
      problems: [
        {
          reason: 'ImagePullBackOff',
          message: 'container mcp-server ImagePullBackOff: Back-off pulling image "mcp/nope:1"',
        },
      ],
    },
    {
      name: 'a missing Secret',
      pod: waiting('CreateContainerConfigError', 'secret "creds" not found'),
      problems: [
        {
          reason: 'CreateContainerConfigError',
          message: 'container mcp-server CreateContainerConfigError: secret "creds" not found',
        },
      ],
    },
    {
      name: 'an unschedulable pod',
      pod: pod('echo-1', {
        phase: 'Pending',
        conditions: [
          {
            type: 'PodScheduled',
            status: 'False',
            reason: 'Unschedulable',
            message: '0/1 nodes are available:\n 1 Insufficient memory.',
          },
        ],
      }),
      problems: [{ reason: 'Unschedulable', message: '0/1 nodes are available: 1 Insufficient memory.' }],
    },
    {
      name: 'an evicted pod',
      pod: pod('echo-1', {
        phase: 'Failed',
        reason: 'Evicted',
        message: 'The node was low on resource: memory.',
      }),
      problems: [{ reason: 'Evicted', message: 'pod echo-1 Evicted: The node was low on resource: memory.' }],
    },
    {
      name: 'a failed pod whose reason is no CamelCase word',
      pod: pod('echo-1', { phase: 'Failed', reason: 'out of memory!' }),
      problems: [{ reason: 'PodFailed', message: 'pod echo-1 PodFailed: it failed' }],
    },
    {
      name: 'a pod being deleted',
      pod: pod(
        'echo-1',
        { phase: 'Failed', reason: 'Evicted' },
        { deletionTimestamp: '2026-01-01T00:00:00Z' },
      ),
      problems: [],
    },
  ])('$name', ({ pod: p, problems }) => {
    expect(problemsOf(p)).toEqual(problems);
  });

  it('groups the same cause over pods, most frequent first, and bounds the sentence', () => {
    const problems = podProblems([
      waiting('ImagePullBackOff', 'x', 'a'),
      waiting('ErrImagePull', 'y', 'b'),
      waiting('ImagePullBackOff', 'x', 'c'),
      waiting('CrashLoopBackOff', undefined, 'd'),
      waiting('RunContainerError', 'z', 'e'),
      running('f'),
    ]);
    expect(problems.map((p) => [p.reason, p.pods])).toEqual([
      ['ImagePullBackOff', 2],
      ['CrashLoopBackOff', 1],
      ['ErrImagePull', 1],
      ['RunContainerError', 1],
    ]);
    expect(describeProblems(problems)).toBe(
      'container mcp-server ImagePullBackOff: x (2 pods); container mcp-server CrashLoopBackOff; container mcp-server ErrImagePull: y; and 1 more',
    );
  });

  it('a pod event matters when readiness or a cause changes, not for other updates', () => {
    const a = running();
    const sameButNewIp = { ...a, metadata: { ...a.metadata, resourceVersion: '2' } };
    expect(podEventMatters({ type: 'update', old: a, object: sameButNewIp })).toBe(false);
    expect(podEventMatters({ type: 'update', old: a, object: waiting('CrashLoopBackOff') })).toBe(true);
    expect(podEventMatters({ type: 'add', object: a })).toBe(true);
    expect(podEventMatters({ type: 'delete', object: a })).toBe(true);
  });

  it('finds the server of a rendered pod by its labels, and of no other pod', () => {
    expect(serverKeyOfPod(running())).toBe('team/echo');
    expect(serverKeyOfPod({ ...running(), metadata: { name: 'x', namespace: 'team', labels: {} } })).toBe(
      undefined,
    );
  });

  it('keeps only what pod health reads', () => {
    const full = {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'echo-1', namespace: 'team', labels, resourceVersion: '7', managedFields: [{}] },
      spec: { containers: [{ name: 'mcp-server', image: 'x', env: [{ name: 'A', value: 'b' }] }] },
      status: {
        phase: 'Running',
        podIP: '10.0.0.1',
        conditions: [
          { type: 'Ready', status: 'True', lastTransitionTime: 't' },
          { type: 'Initialized', status: 'True' },
        ],
        containerStatuses: [
          {
            name: 'mcp-server',
            ready: true,
            image: 'x',
            imageID: 'y',
            state: { running: { startedAt: 't' } },
          },
        ],
      },
    };
    expect(trimPod(full)).toEqual({
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'echo-1', namespace: 'team', labels, resourceVersion: '7' },
      status: {
        phase: 'Running',
        conditions: [{ type: 'Ready', status: 'True', reason: undefined, message: undefined }],
        containerStatuses: [{ name: 'mcp-server', ready: true }],
      },
    });
  });
});
