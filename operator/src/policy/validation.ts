import { Compile } from 'typebox/compile';
import { compilePolicy, PolicyCompileError, PolicyRule } from '../../../sidecar/src/contract/index.ts';
import type { ClusterMcpPolicy } from '../api/cluster-mcp-policy.ts';
import { PolicyReason } from '../api/conditions.ts';
import type { McpPolicy } from '../api/mcp-policy.ts';
import type { PolicyCheck } from './checker.ts';
import { selectorProblems } from './selection.ts';

// Checks an McpPolicy the way the sidecar will: each rule goes through the sidecar's own compiler
// (CEL `when` parsed and type-checked, globs, subjects), so a policy the operator accepts is one
// every sidecar accepts. What the CRD schema already refused is checked again here, for objects
// that did not come through it. The result is the input of the Accepted condition.

export type PolicyIssue = {
  /** The rule at fault; absent for problems of the policy as a whole (its selector). */
  rule?: string;
  /** Field inside the rule, or the policy field. */
  field: string;
  message: string;
  /** Where in the field's text (a CEL condition) the fault is, 1-based, when known. */
  position?: { line: number; column: number };
};

const ruleSchema = Compile(PolicyRule);
const MAX_PROBLEMS = 30_000;

/** What validation reads of a policy of either kind. */
type Validated = Pick<McpPolicy, 'spec'>;

function ruleIssues(policy: Validated): PolicyIssue[] {
  const issues: PolicyIssue[] = [];
  const seen = new Set<string>();
  policy.spec.rules.forEach((rule, i) => {
    const name = typeof rule?.name === 'string' && rule.name !== '' ? rule.name : `#${i + 1}`;
    if (!ruleSchema.Check(rule)) {
      for (const e of ruleSchema.Errors(rule)) {
        issues.push({
          rule: name,
          field: e.instancePath.slice(1).replaceAll('/', '.') || '.',
          message: e.message,
        });
      }
      return;
    }
    if (seen.has(rule.name)) {
      issues.push({ rule: name, field: 'name', message: 'another rule of this policy has the same name' });
      return;
    }
    seen.add(rule.name);
    try {
      // The reference only prefixes the error message, which is cut to the detail below.
      compilePolicy([{ ...rule, policy: 'validation' }]);
    } catch (err) {
      if (!(err instanceof PolicyCompileError)) throw err;
      const detail = err.message.slice(err.message.indexOf(`${err.field}: `) + err.field.length + 2);
      issues.push({
        rule: name,
        field: err.field,
        message: detail,
        ...(err.position ? { position: err.position } : {}),
      });
    }
  });
  return issues;
}

/** Pure: every problem of the policy, each naming its rule; empty when the policy can be enforced. */
export function validatePolicy(policy: Validated): PolicyIssue[] {
  return [
    ...selectorProblems(policy.spec.servers).map((message) => ({ field: 'spec.servers', message })),
    ...ruleIssues(policy),
  ];
}

/** Pure: a ClusterMcpPolicy's problems: its namespace selector, then what an McpPolicy can have. */
export function validateClusterPolicy(policy: Pick<ClusterMcpPolicy, 'spec'>): PolicyIssue[] {
  return [
    ...selectorProblems(policy.spec.namespaceSelector ?? {}).map((message) => ({
      field: 'spec.namespaceSelector',
      message,
    })),
    ...validatePolicy(policy),
  ];
}

export type AcceptedInput = {
  status: 'True' | 'False';
  reason: PolicyReason;
  message: string;
};

/** Pure: the Accepted condition for a policy with these issues. */
export function acceptedCondition(issues: readonly PolicyIssue[]): AcceptedInput {
  if (issues.length === 0) {
    return {
      status: 'True',
      reason: PolicyReason.Valid,
      message: 'All rules compiled; the policy is in force.',
    };
  }
  const describe = (i: PolicyIssue) =>
    i.rule === undefined ? `${i.field}: ${i.message}` : `rule "${i.rule}": ${i.field}: ${i.message}`;
  const selector = issues.some((i) => i.rule === undefined);
  let problems = issues.map(describe).join('; ');
  // Condition messages hold at most 32768 characters.
  if (problems.length > MAX_PROBLEMS) problems = `${problems.slice(0, MAX_PROBLEMS)}...`;
  return {
    status: 'False',
    reason: selector ? PolicyReason.InvalidSelector : PolicyReason.InvalidRule,
    // What stays in force instead depends on the policy's history; its status adds that.
    message: problems,
  };
}

function checkOf(issues: readonly PolicyIssue[]): PolicyCheck {
  const accepted = acceptedCondition(issues);
  return { accepted: accepted.status === 'True', reason: accepted.reason, message: accepted.message };
}

/** The check the policy checker memoizes: whether the policy is accepted, and why not. */
export function checkPolicy(policy: McpPolicy): PolicyCheck {
  return checkOf(validatePolicy(policy));
}

export function checkClusterPolicy(policy: ClusterMcpPolicy): PolicyCheck {
  return checkOf(validateClusterPolicy(policy));
}
