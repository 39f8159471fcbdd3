import { describe, expect, it } from 'vitest';
import type { PodProblem } from '../../../../../operator/src/controller/mcpserver/pod-health.ts';
import {
  type DeploymentState,
  type ServerObservation,
  serverStatus,
} from '../../../../../operator/src/controller/mcpserver/status.ts';

const now = new Date('2026-03-01T12:00:00Z');
const URL = 'http://echo.team.svc.cluster.local/mcp';

const deployment = (
  available: number,
  updated = available,
  generation = 1,
  observed = 1,
): DeploymentState => ({
  generation,
  status: {
    observedGeneration: observed,
    replicas: updated,
    updatedReplicas: updated,
    readyReplicas: available,
    availableReplicas: available,
  },
});

const withConditions = (
  d: DeploymentState,
  ...conditions: NonNullable<NonNullable<DeploymentState['status']>['conditions']>
): DeploymentState => ({ ...d, status: { ...d.status, conditions } });

/** A Deployment whose rollout completed once (the Deployment controller's own mark), now with `available` pods. */
const completed = (available: number) =>
  withConditions(deployment(available, 2), {
    type: 'Progressing',
    status: 'True',
    reason: 'NewReplicaSetAvailable',
  });

const crashLoop: PodProblem = {
  reason: 'CrashLoopBackOff',
  message: 'container mcp-server CrashLoopBackOff (last exit: Error, code 1)',
  pods: 2,
};
const unschedulable: PodProblem = {
  reason: 'Unschedulable',
  message: "0/1 nodes are available: 1 node(s) didn't match Pod's node affinity/selector.",
  pods: 2,
};

const observation = (o: Partial<ServerObservation> = {}): ServerObservation => ({
  name: 'echo',
  generation: 3,
  previous: undefined,
  url: URL,
  desiredReplicas: 2,
  deployment: deployment(2),
  policies: ['read'],
  rejectedPolicies: [],
  ...o,
});

const cond = (s: ReturnType<typeof serverStatus>, type: string) => s.conditions?.find((c) => c.type === type);

describe('serverStatus', () => {
  it.each([
    {
      name: 'all pods available',
      o: observation(),
      phase: 'Ready',
      ready: ['True', 'Available'],
      degraded: 'False',
    },
    {
      name: 'no Deployment yet',
      o: observation({ deployment: undefined }),
      phase: 'Pending',
      ready: ['False', 'Progressing'],
      degraded: 'False',
    },
    {
      name: 'rollout in progress',
      o: observation({ deployment: deployment(1, 1) }),
      phase: 'Progressing',
      ready: ['False', 'Progressing'],
      degraded: 'False',
    },
    {
      name: 'Deployment controller has not seen the new spec',
      o: observation({ deployment: deployment(2, 2, 2, 1) }),
      phase: 'Progressing',
      ready: ['False', 'Progressing'],
      degraded: 'False',
    },
    {
      name: 'a pod lost after rollout',
      o: observation({ deployment: deployment(1, 2) }),
      phase: 'Degraded',
      ready: ['False', 'Progressing'],
      degraded: 'True',
    },
    {
      name: 'scaled to zero',
      o: observation({ desiredReplicas: 0, deployment: deployment(0) }),
      phase: 'Pending',
      ready: ['False', 'ScaledToZero'],
      degraded: 'False',
    },
    {
      name: 'spec cannot be rendered',
      o: observation({ renderError: { reason: 'InvalidSpec', message: 'port 8080 is the sidecar port' } }),
      phase: 'Failed',
      ready: ['False', 'InvalidSpec'],
      degraded: 'True',
    },
    {
      name: 'API server refused a child',
      o: observation({ applyError: 'Deployment echo: bad' }),
      phase: 'Failed',
      ready: ['False', 'ApplyFailed'],
      degraded: 'True',
    },
    {
      name: 'every pod lost after the rollout completed',
      o: observation({ deployment: completed(0) }),
      phase: 'Degraded',
      ready: ['False', 'ReplicasUnavailable'],
      degraded: 'True',
    },
    {
      name: 'no pod available, crash looping',
      o: observation({ deployment: completed(0), podProblems: [crashLoop] }),
      phase: 'Failed',
      ready: ['False', 'CrashLoopBackOff'],
      degraded: 'True',
    },
    {
      name: 'a new server whose pods cannot be scheduled',
      o: observation({ deployment: deployment(0, 2), podProblems: [unschedulable] }),
      phase: 'Failed',
      ready: ['False', 'Unschedulable'],
      degraded: 'True',
    },
    {
      name: 'one of two pods crash looping',
      o: observation({ deployment: completed(1), podProblems: [{ ...crashLoop, pods: 1 }] }),
      phase: 'Degraded',
      ready: ['False', 'CrashLoopBackOff'],
      degraded: 'True',
    },
    {
      name: 'a stuck rollout with no pod available',
      o: observation({
        deployment: withConditions(deployment(0, 0), {
          type: 'ReplicaFailure',
          status: 'True',
          reason: 'FailedCreate',
          message: 'exceeded quota',
        }),
      }),
      phase: 'Failed',
      ready: ['False', 'Progressing'],
      degraded: 'True',
    },
    {
      name: "a child's name is held by someone else's object",
      o: observation({ conflict: 'ConfigMap echo already exists and was not created for this McpServer' }),
      phase: 'Failed',
      ready: ['False', 'Conflict'],
      degraded: 'False',
    },
    {
      name: 'a selected policy is not accepted',
      o: observation({ rejectedPolicies: [{ name: 'bad', message: 'rule x: when: syntax error' }] }),
      phase: 'Degraded',
      ready: ['True', 'Available'],
      degraded: 'True',
    },
  ])('$name: phase $phase', ({ o, phase, ready, degraded }) => {
    const s = serverStatus(o, now);
    expect(s.phase).toBe(phase);
    expect([cond(s, 'Ready')?.status, cond(s, 'Ready')?.reason]).toEqual(ready);
    expect(cond(s, 'Degraded')?.status).toBe(degraded);
    expect(s.observedGeneration).toBe(3);
    expect(s.conditions?.every((c) => c.observedGeneration === 3)).toBe(true);
  });

  it.each([
    {
      name: 'no policies: every call is denied, and it says how to fix that',
      o: observation({ policies: [] }),
      status: 'True',
      reason: 'NoPolicies',
      text: 'every call is denied',
    },
    {
      name: 'policies in force are listed',
      o: observation({ policies: ['b', 'a'] }),
      status: 'True',
      reason: 'Resolved',
      text: 'In force: b, a',
    },
    {
      name: 'a rejected policy names the error and the generation that stays in force',
      o: observation({
        rejectedPolicies: [{ name: 'bad', message: 'rule x: when: syntax error', keptGeneration: 3 }],
      }),
      status: 'False',
      reason: 'PolicyNotAccepted',
      text: 'bad (rule x: when: syntax error; generation 3 stays in force)',
    },
    {
      name: 'a rejected policy never accepted says every call is denied, not that a version is kept',
      o: observation({ rejectedPolicies: [{ name: 'bad', message: 'rule x: when: syntax error' }] }),
      status: 'False',
      reason: 'PolicyNotAccepted',
      text: 'bad (rule x: when: syntax error; never accepted: every call is denied)',
    },
  ])('PoliciesResolved: $name', ({ o, status, reason, text }) => {
    const c = cond(serverStatus(o, now), 'PoliciesResolved');
    expect([c?.status, c?.reason]).toEqual([status, reason]);
    expect(c?.message).toContain(text);
  });

  it.each([
    { name: 'all pods available', o: observation(), text: 'Nothing is wrong.' },
    {
      name: 'all pods lost',
      o: observation({ deployment: completed(0) }),
      text: '0 of 2 pods available; see kubectl describe deployment echo.',
    },
    {
      name: 'crash looping',
      o: observation({ deployment: completed(0), podProblems: [crashLoop] }),
      text: '0 of 2 pods available: container mcp-server CrashLoopBackOff (last exit: Error, code 1) (2 pods)',
    },
    {
      name: 'a refused apply',
      o: observation({ applyError: 'Deployment echo: quantities must match' }),
      text: 'The desired state is not applied (Deployment echo: quantities must match)',
    },
  ])('Degraded says what is wrong: $name', ({ o, text }) => {
    expect(cond(serverStatus(o, now), 'Degraded')?.message).toContain(text);
  });

  it('Ready names the cause of unschedulable pods in the words of the scheduler', () => {
    const s = serverStatus(observation({ deployment: deployment(0, 2), podProblems: [unschedulable] }), now);
    expect(cond(s, 'Ready')?.message).toBe(
      "0 of 2 pods available: 0/1 nodes are available: 1 node(s) didn't match Pod's node affinity/selector. (2 pods).",
    );
  });

  it('reports the URL, sorted policies and replica counts', () => {
    const s = serverStatus(observation({ policies: ['b', 'a'] }), now);
    expect(s).toMatchObject({
      url: URL,
      policies: ['a', 'b'],
      policyNames: 'a, b',
      replicas: 2,
      readyReplicas: 2,
      source: 'hosted',
    });
  });

  it('recomputing an unchanged observation gives an identical status (so no write)', () => {
    const first = serverStatus(observation(), now);
    const again = serverStatus(observation({ previous: first }), new Date('2026-03-01T13:00:00Z'));
    expect(again).toEqual(first);
  });

  it('a flip moves only the flipped condition’s transition time', () => {
    const first = serverStatus(observation({ deployment: deployment(1, 1) }), now);
    const later = new Date('2026-03-01T12:10:00Z');
    const second = serverStatus(observation({ previous: first }), later);
    expect(cond(second, 'Ready')?.lastTransitionTime).toBe('2026-03-01T12:10:00Z');
    expect(cond(second, 'PoliciesResolved')?.lastTransitionTime).toBe('2026-03-01T12:00:00Z');
  });

  describe('UpstreamReachable (external servers)', () => {
    const VENDOR = 'https://mcp.vendor.example/mcp';
    const report = (r: Partial<NonNullable<ServerObservation['external']>['report']> = {}) => ({
      url: VENDOR,
      reachable: true,
      pod: 'vendor-7d9f-abcde',
      probeTime: '2026-03-01T11:59:30Z',
      ...r,
    });
    const external = (r: NonNullable<ServerObservation['external']>['report']) =>
      serverStatus(observation({ source: 'external', external: { url: VENDOR, report: r } }), now);

    it.each([
      {
        name: 'no report yet: Unknown',
        report: undefined,
        want: { status: 'Unknown', reason: 'NoReport' },
        text: `No gateway pod has probed ${VENDOR} yet`,
      },
      {
        name: 'a report about a previous URL: Unknown',
        report: report({ url: 'https://old.vendor.example/mcp' }),
        want: { status: 'Unknown', reason: 'NoReport' },
        text: 'No gateway pod has probed',
      },
      {
        name: 'reached: True with serverInfo and protocol',
        report: report({
          serverInfo: { name: 'vendor-mcp', version: '2.1.0' },
          protocolVersion: '2025-06-18',
        }),
        want: { status: 'True', reason: 'Reachable' },
        text: 'Gateway pod vendor-7d9f-abcde (2026-03-01T11:59:30Z) reached https://mcp.vendor.example/mcp: serverInfo vendor-mcp 2.1.0; protocol 2025-06-18.',
      },
      {
        name: 'not reached: False with the reason',
        report: report({ reachable: false, message: 'TLS: the upstream certificate is not trusted' }),
        want: { status: 'False', reason: 'Unreachable' },
        text: 'cannot reach https://mcp.vendor.example/mcp: TLS: the upstream certificate is not trusted',
      },
    ])('$name', ({ report: r, want, text }) => {
      const s = external(r);
      expect(cond(s, 'UpstreamReachable')).toMatchObject(want);
      expect(cond(s, 'UpstreamReachable')?.message).toContain(text);
      expect(s.source).toBe('external');
    });

    it('an unreachable upstream degrades the server (calls fail) while its pods are ready', () => {
      const s = external(report({ reachable: false, message: 'ECONNREFUSED' }));
      expect(cond(s, 'Ready')?.status).toBe('True');
      expect(cond(s, 'Degraded')).toMatchObject({ status: 'True', reason: 'Unreachable' });
      expect(s.phase).toBe('Degraded');
    });

    it('hosted servers have no such condition, and lose it when they stop being external', () => {
      expect(cond(serverStatus(observation(), now), 'UpstreamReachable')).toBeUndefined();
      const wasExternal = external(report());
      expect(
        cond(serverStatus(observation({ previous: wasExternal }), now), 'UpstreamReachable'),
      ).toBeUndefined();
    });
  });
});
