import { UNAUTHENTICATED_GROUP } from '../../../sidecar/src/contract/index.ts';
import type { LabelSelector } from '../api/kube-types.ts';
import type { AcceptedSpec, McpPolicy } from '../api/mcp-policy.ts';
import { sha256Of } from '../kube/json.ts';
import { memoId, type PolicyChecker } from './checker.ts';
import { selectorMatches, selectorProblems } from './selection.ts';

// Which version of an McpPolicy is in force. Pure. An accepted spec is in force as it is and is
// recorded in status.lastAccepted (by the policy controller, its only writer). While the spec is not
// accepted, the recorded version stays in force: its selector and its rules, so neither a broken
// rule nor a broken selector can drop a guardrail. A policy with no accepted version fails closed:
// the servers it would govern deny every call, with a rule that names the policy.

type Rule = McpPolicy['spec']['rules'][number];

/** Name of the rule rendered for a policy that has no accepted version. */
export const FAIL_CLOSED_RULE = 'not-accepted';

export const failClosedRule: Rule = {
  name: FAIL_CLOSED_RULE,
  action: 'deny',
  // anyAuthenticated leaves out anonymous callers; their group brings them in.
  subjects: [{ anyAuthenticated: true }, { group: UNAUTHENTICATED_GROUP }],
  tools: ['*'],
  resources: ['*'],
  prompts: ['*'],
};

/** The record of an accepted spec, as written to status.lastAccepted. */
export function acceptedSpecOf(policy: McpPolicy): AcceptedSpec {
  const { servers, rules } = policy.spec;
  return {
    generation: policy.metadata.generation ?? 0,
    digest: `sha256:${sha256Of({ servers, rules })}`,
    servers,
    rules,
  };
}

export type PolicyVersion =
  | { kind: 'current' }
  | { kind: 'lastAccepted'; generation: number }
  | { kind: 'failClosed' };

export interface PolicyInForce {
  /** The policy as it is rendered: its spec replaced by the version in force. */
  policy: McpPolicy;
  version: PolicyVersion;
  /** Why the current spec is not accepted; absent when it is. */
  message?: string;
}

/**
 * The version of `policy` in force. The recorded version is checked again (as the sidecar will):
 * status is the operator's, but a record that does not compile must not reach a sidecar either.
 */
export function policyInForce(policy: McpPolicy, checker: PolicyChecker): PolicyInForce {
  const check = checker.check(policy);
  if (check.accepted) return { policy, version: { kind: 'current' } };
  const last = policy.status?.lastAccepted;
  if (last && checker.check(recordedVersion(policy, last)).accepted) {
    return {
      policy: { ...policy, spec: { servers: last.servers, rules: last.rules } },
      version: { kind: 'lastAccepted', generation: last.generation },
      message: check.message,
    };
  }
  return {
    policy: { ...policy, spec: { servers: specSelector(policy), rules: [failClosedRule] } },
    version: { kind: 'failClosed' },
    message: check.message,
  };
}

/** The recorded version as a policy of its own, with an identity the checker keeps apart. */
function recordedVersion(policy: McpPolicy, last: AcceptedSpec): McpPolicy {
  return {
    ...policy,
    metadata: {
      ...policy.metadata,
      uid: `${memoId(policy)}@lastAccepted`,
      generation: last.generation,
    },
    spec: { servers: last.servers, rules: last.rules },
  };
}

/**
 * Selectors of every server a policy may govern, whatever is accepted: its spec's (or all servers,
 * when that is invalid) and its recorded version's. Used to route policy events to servers.
 */
function governedSelectors(policy: McpPolicy): LabelSelector[] {
  const last = policy.status?.lastAccepted?.servers;
  return last ? [specSelector(policy), last] : [specSelector(policy)];
}

/**
 * The servers the spec would govern: its selector, or every server of the namespace when even that
 * is invalid, since nothing smaller is known to be safe.
 */
function specSelector(policy: McpPolicy): LabelSelector {
  return selectorProblems(policy.spec.servers).length === 0 ? policy.spec.servers : {};
}

export function mayGovern(policy: McpPolicy, labels: Readonly<Record<string, string>> | undefined): boolean {
  return governedSelectors(policy).some((s) => selectorMatches(s, labels));
}
