import type { LabelSelector } from '../api/kube-types.ts';
import type { McpPolicy } from '../api/mcp-policy.ts';
import type { McpServer } from '../api/mcp-server.ts';

// Which McpPolicies select which McpServers: Kubernetes label-selector semantics within one
// namespace. An invalid selector selects nothing (policy validation reports it), so a typo can
// never widen a policy to every server.

const NAME = '[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?';
const LABEL_KEY = new RegExp(`^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*/)?${NAME}$`);
const LABEL_VALUE = new RegExp(`^(${NAME})?$`);

/** Pure: what is wrong with a selector, as readable messages; empty when it is valid. */
export function selectorProblems(selector: LabelSelector): string[] {
  const problems: string[] = [];
  const checkKey = (key: string, at: string) => {
    const prefix = key.includes('/') ? key.slice(0, key.indexOf('/')) : '';
    if (!LABEL_KEY.test(key) || prefix.length > 253)
      problems.push(`${at}: '${key}' is not a valid label key`);
  };
  const checkValue = (value: string, at: string) => {
    if (!LABEL_VALUE.test(value)) problems.push(`${at}: '${value}' is not a valid label value`);
  };
  for (const [key, value] of Object.entries(selector.matchLabels ?? {})) {
    checkKey(key, 'matchLabels');
    checkValue(value, `matchLabels.${key}`);
  }
  (selector.matchExpressions ?? []).forEach((e, i) => {
    const at = `matchExpressions[${i}]`;
    checkKey(e.key, at);
    const values = e.values ?? [];
    if ((e.operator === 'In' || e.operator === 'NotIn') && values.length === 0) {
      problems.push(`${at}: ${e.operator} needs at least one value`);
    }
    if ((e.operator === 'Exists' || e.operator === 'DoesNotExist') && values.length > 0) {
      problems.push(`${at}: ${e.operator} takes no values`);
    }
    for (const v of values) checkValue(v, `${at}.values`);
  });
  return problems;
}

/** Pure: whether `labels` satisfy `selector`. {} selects everything; an invalid selector nothing. */
export function selectorMatches(
  selector: LabelSelector,
  labels: Readonly<Record<string, string>> = {},
): boolean {
  if (selectorProblems(selector).length > 0) return false;
  for (const [key, value] of Object.entries(selector.matchLabels ?? {})) {
    if (labels[key] !== value) return false;
  }
  for (const e of selector.matchExpressions ?? []) {
    const value = Object.hasOwn(labels, e.key) ? labels[e.key] : undefined;
    const values = e.values ?? [];
    const ok =
      e.operator === 'In'
        ? value !== undefined && values.includes(value)
        : e.operator === 'NotIn'
          ? value === undefined || !values.includes(value)
          : e.operator === 'Exists'
            ? value !== undefined
            : value === undefined;
    if (!ok) return false;
  }
  return true;
}

export function selects(policy: McpPolicy, server: McpServer): boolean {
  return (
    policy.metadata.namespace === server.metadata.namespace &&
    selectorMatches(policy.spec.servers, server.metadata.labels)
  );
}

/** The policies that select `server`, ordered by name. */
export function policiesForServer(server: McpServer, policies: readonly McpPolicy[]): McpPolicy[] {
  return policies
    .filter((p) => selects(p, server))
    .sort((a, b) => a.metadata.name.localeCompare(b.metadata.name));
}

/** Names of the servers `policy` selects, sorted (for McpPolicy status.servers). */
export function serversForPolicy(policy: McpPolicy, servers: readonly McpServer[]): string[] {
  return servers
    .filter((s) => selects(policy, s))
    .map((s) => s.metadata.name)
    .sort();
}
