import { AUTHN_ERROR_CODES } from '../authn/errors.ts';
import { classifyMethod } from '../contract/methods.ts';

// Bounded label values. Metric labels come only from these functions, so a caller can never create a
// new series by sending a new tool name, method or session: unknown values fold into "other".

export const OTHER = 'other';

/** MCP methods as they appear in the method label; anything else is "other". */
export const MCP_METHODS: ReadonlySet<string> = new Set([
  'initialize',
  'ping',
  'tools/list',
  'tools/call',
  'resources/list',
  'resources/read',
  'resources/templates/list',
  'resources/subscribe',
  'resources/unsubscribe',
  'prompts/list',
  'prompts/get',
  'completion/complete',
  'logging/setLevel',
  'tasks/get',
  'tasks/list',
  'tasks/result',
  'tasks/cancel',
  'notifications/initialized',
  'notifications/cancelled',
  'notifications/progress',
  'notifications/roots/list_changed',
  'sampling/createMessage',
  'elicitation/create',
  'roots/list',
  'http',
]);

export function methodLabel(method: string): string {
  return MCP_METHODS.has(method) ? method : OTHER;
}

/**
 * Tool names are learned from configuration and from upstream tools/list answers (the server's own
 * list, not what callers send) up to a cap; names after the cap, and names never listed, are "other".
 */
export interface ToolLabels {
  observe(names: Iterable<string>): void;
  label(name: string | undefined): string;
  readonly size: number;
}

export function createToolLabels(opts: { limit: number; known?: Iterable<string> }): ToolLabels {
  const names = new Set<string>();
  const observe = (list: Iterable<string>) => {
    for (const n of list) {
      if (names.size >= opts.limit) return;
      if (n.length > 0 && n.length <= 128) names.add(n);
    }
  };
  observe(opts.known ?? []);
  return {
    observe,
    label: (name) => (name === undefined ? '' : names.has(name) ? name : OTHER),
    get size() {
      return names.size;
    },
  };
}

/** Rule label when a denial came from no rule: nothing allowed the call (or it named no target). */
export const DEFAULT_DENY = 'default-deny';
/** Rule label when the method itself is not in the sidecar's method table. */
export const METHOD_DENIED = 'method-denied';
/** Distinct `policy/rule` label values before the rest fold into "other". */
export const RULE_LABEL_LIMIT = 200;

/**
 * Rule labels ("policy/rule") come only from configuration, learned at load and on each reload, up
 * to a cap over the life of the process, so reloads cannot grow the series without bound.
 */
export interface RuleLabels {
  observe(rules: Iterable<{ policy: string; name: string }>): void;
  label(decision: { effect: 'allow' | 'deny'; rule?: string; policy?: string }, method: string): string;
  readonly size: number;
}

export function createRuleLabels(opts: {
  limit: number;
  known?: Iterable<{ policy: string; name: string }>;
}): RuleLabels {
  const names = new Set<string>();
  const observe = (rules: Iterable<{ policy: string; name: string }>) => {
    for (const r of rules) {
      if (names.size >= opts.limit) return;
      const key = `${r.policy}/${r.name}`;
      if (key.length <= 256) names.add(key);
    }
  };
  observe(opts.known ?? []);
  return {
    observe,
    label(decision, method) {
      if (decision.rule !== undefined) {
        const key = `${decision.policy ?? ''}/${decision.rule}`;
        return names.has(key) ? key : OTHER;
      }
      if (decision.effect === 'allow') return ''; // open and list methods need no rule
      return classifyMethod(method).kind === 'unknown' ? METHOD_DENIED : DEFAULT_DENY;
    },
    get size() {
      return names.size;
    },
  };
}

/** The authenticator's failure codes (sidecar/src/authn/errors.ts), the only values of `reason`. */
export const AUTHN_REASONS: ReadonlySet<string> = new Set(AUTHN_ERROR_CODES);
