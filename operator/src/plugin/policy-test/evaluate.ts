import { compilePolicy, type Decision } from '../../../../sidecar/src/contract/index.ts';
import type { McpPolicy } from '../../api/mcp-policy.ts';
import type { McpServer } from '../../api/mcp-server.ts';
import { policiesForServer } from '../../policy/selection.ts';
import { configuredRules } from '../../render/sidecar-config.ts';
import { simulatedPrincipal } from '../shared/principal.ts';
import { type CallKind, simulate } from '../shared/simulate.ts';
import type { TestCase } from './format.ts';

// The pure part of `policy test`: each case decided over the rules its server would be rendered
// with (the operator's own selection and rendering, the sidecar's own compiler and decide), and
// compared with what the case expects.

export interface CaseResult {
  readonly name: string;
  readonly ok: boolean;
  /** What was decided, or why the case could not be run. */
  readonly detail: string;
}

function describe(d: Decision): string {
  return d.rule ? `${d.effect} by rule ${d.rule.name} of ${d.rule.policy}` : `${d.effect} (${d.reason})`;
}

function expected(c: TestCase): string {
  const { decision, rule, policy } = c.expect;
  if (rule === null) return `${decision} by no rule`;
  if (rule === undefined) return decision;
  return `${decision} by rule ${rule}${policy ? ` of ${policy}` : ''}`;
}

function matches(c: TestCase, d: Decision): boolean {
  const { decision, rule, policy } = c.expect;
  if (d.effect !== decision) return false;
  if (rule === null) return d.rule === undefined;
  if (rule !== undefined && d.rule?.name !== rule) return false;
  return policy === undefined || d.rule?.policy === policy;
}

function serverOf(c: TestCase, servers: readonly McpServer[]): McpServer | string {
  if (c.server === undefined) {
    if (servers.length === 1) return servers[0] as McpServer;
    return servers.length === 0 ? 'no server is declared' : 'several servers are declared: name one';
  }
  const found = servers.filter((s) =>
    c.server?.includes('/')
      ? `${s.metadata.namespace}/${s.metadata.name}` === c.server
      : s.metadata.name === c.server,
  );
  if (found.length === 1) return found[0] as McpServer;
  return found.length === 0
    ? `server '${c.server}' is not declared`
    : `server '${c.server}' is ambiguous: use namespace/name`;
}

function callOf(c: TestCase): { kind: CallKind; target: string } | string {
  const named = (['tool', 'resource', 'prompt'] as const).filter((k) => c[k] !== undefined);
  if (named.length !== 1) return 'a case names exactly one of tool, resource, prompt';
  const kind = named[0] as CallKind;
  return { kind, target: c[kind] as string };
}

export function runCase(
  c: TestCase,
  servers: readonly McpServer[],
  policies: readonly McpPolicy[],
): CaseResult {
  const fail = (detail: string): CaseResult => ({ name: c.name, ok: false, detail });
  const server = serverOf(c, servers);
  if (typeof server === 'string') return fail(server);
  const call = callOf(c);
  if (typeof call === 'string') return fail(call);
  let decision: Decision;
  try {
    const rules = configuredRules(server, policiesForServer(server, policies));
    decision = simulate(compilePolicy(rules), server.metadata.name, simulatedPrincipal(c.principal), {
      ...call,
      ...(c.arguments ? { arguments: c.arguments } : {}),
      ...(c.method ? { method: c.method } : {}),
    });
  } catch (err) {
    return fail((err as Error).message);
  }
  const ok = matches(c, decision);
  return {
    name: c.name,
    ok,
    detail: ok ? describe(decision) : `expected ${expected(c)}, got ${describe(decision)}`,
  };
}
