import { describe, expect, it } from 'vitest';
import type { ClusterMcpPolicy } from '../../../../operator/src/api/cluster-mcp-policy.ts';
import { FAIL_CLOSED_RULE } from '../../../../operator/src/policy/accepted.ts';
import { PolicyChecker } from '../../../../operator/src/policy/checker.ts';
import {
  clusterAcceptedSpecOf,
  clusterPolicyInForce,
  clusterSelects,
} from '../../../../operator/src/policy/cluster.ts';
import { checkClusterPolicy } from '../../../../operator/src/policy/validation.ts';
import { configuredRules } from '../../../../operator/src/render/sidecar-config.ts';
import { policy, rule, server } from '../api/builders.ts';

// ClusterMcpPolicy selection (namespace labels and server labels), the version in force (a broken
// edit keeps the last accepted one; never accepted fails closed, widening invalid selectors), and
// the order of rules in a server's configuration (cluster policies ahead of namespaced ones).

function cluster(
  spec: Partial<ClusterMcpPolicy['spec']> = {},
  status?: ClusterMcpPolicy['status'],
): ClusterMcpPolicy {
  return {
    apiVersion: 'portcullis.dev/v1alpha1',
    kind: 'ClusterMcpPolicy',
    metadata: { name: 'guard', uid: 'c-uid', generation: 2 },
    spec: {
      namespaceSelector: { matchLabels: { env: 'prod' } },
      servers: { matchLabels: { team: 'payments' } },
      rules: [rule({ name: 'no-exec', action: 'deny', tools: ['exec'] })],
      ...spec,
    },
    ...(status ? { status } : {}),
  };
}

const checker = () => new PolicyChecker<ClusterMcpPolicy>(checkClusterPolicy);
const BAD_CEL = rule({ name: 'broken', when: 'arguments.x ==' });

describe('clusterSelects', () => {
  it.each([
    { name: 'namespace and server labels match', ns: { env: 'prod' }, matches: true },
    { name: 'the namespace lacks the label', ns: { env: 'dev' }, matches: false },
    { name: 'the namespace is unknown (no labels)', ns: undefined, matches: false },
  ])('$name', ({ ns, matches }) => {
    expect(clusterSelects(cluster().spec, server(), ns)).toBe(matches);
  });

  it('no namespaceSelector selects every namespace', () => {
    expect(clusterSelects(cluster({ namespaceSelector: undefined }).spec, server(), undefined)).toBe(true);
  });
});

describe('clusterPolicyInForce', () => {
  it('an accepted spec is in force as it is', () => {
    const p = cluster();
    expect(clusterPolicyInForce(p, checker())).toEqual({ policy: p, version: { kind: 'current' } });
  });

  it('a broken edit keeps the recorded version, namespace selector included', () => {
    const accepted = clusterAcceptedSpecOf({
      ...cluster(),
      metadata: { ...cluster().metadata, generation: 1 },
    });
    const p = cluster({ rules: [BAD_CEL] }, { lastAccepted: accepted });
    const r = clusterPolicyInForce(p, checker());
    expect(r.version).toEqual({ kind: 'lastAccepted', generation: 1 });
    expect(r.policy.spec).toEqual(cluster().spec);
  });

  it('never accepted: every call of the servers it may select is denied, invalid selectors widened', () => {
    const p = cluster({
      namespaceSelector: { matchLabels: { 'bad key!': 'x' } },
      rules: [BAD_CEL],
    });
    const r = clusterPolicyInForce(p, checker());
    expect(r.version).toEqual({ kind: 'failClosed' });
    expect(r.policy.spec.namespaceSelector).toEqual({});
    expect(r.policy.spec.rules.map((x) => x.name)).toEqual([FAIL_CLOSED_RULE]);
    expect(clusterSelects(r.policy.spec, server(), { env: 'dev' })).toBe(true);
  });
});

describe('configuredRules', () => {
  it('puts cluster policies ahead of namespaced ones, each named by kind', () => {
    const rules = configuredRules(server(), [policy({ name: 'aaa-first-by-name' })], [cluster()]);
    expect(rules.map((r) => r.policy)).toEqual(['ClusterMcpPolicy guard', 'team-a/aaa-first-by-name']);
  });
});
