import type { CelContext, CompiledCondition } from './cel.ts';
import type { Decision } from './decision.ts';
import { classifyMethod, type TargetKind } from './methods.ts';
import type { CompiledPolicy } from './policy.ts';
import type { Principal } from './principal.ts';

// The authorization decision: a pure function of the compiled policy, the principal and a request
// snapshot. Default deny; a matching deny rule wins over any allow; a rule matches when its target
// patterns, one of its subjects and its `when` condition (if any) all match.
//
// A `when` that fails to evaluate (missing key, wrong type, non-bool result) fails closed: the
// allow rule does not match, the deny rule DOES match. So a deny condition can never be dodged by
// sending arguments that make it error.

export interface AuthzRequest {
  method: string;
  server: string;
  tool?: string;
  resource?: string;
  prompt?: string;
  /** subscriptions/listen: resource URIs, each decided as resources/subscribe. */
  subscriptions?: readonly string[];
  arguments?: unknown;
}

const freeze = (effect: 'allow' | 'deny', reason: string): Decision => Object.freeze({ effect, reason });

const OPEN = freeze('allow', 'this method needs no tool, resource or prompt decision');
const LIST = freeze('allow', 'list results are filtered to what the caller may use');
const UNKNOWN = freeze('deny', 'this MCP method is not allowed through the sidecar');
const DEFAULT_DENY: Record<TargetKind, Decision> = {
  tool: freeze('deny', 'no rule allows this caller to use this tool'),
  resource: freeze('deny', 'no rule allows this caller to use this resource'),
  prompt: freeze('deny', 'no rule allows this caller to use this prompt'),
};
const MISSING: Record<TargetKind | 'ref', Decision> = {
  tool: freeze('deny', 'the request names no tool'),
  resource: freeze('deny', 'the request names no resource'),
  prompt: freeze('deny', 'the request names no prompt'),
  ref: freeze('deny', 'the completion request names no prompt or resource'),
};
const SUBSCRIPTIONS = freeze('allow', 'the caller may use every resource it subscribes to');
const BAD_SUBSCRIPTIONS = freeze('deny', 'the subscription request is malformed or names too many resources');
/** More subscriptions than this on one stream are refused: each costs a decision. */
export const MAX_SUBSCRIPTIONS = 1024;
const TOO_LONG = freeze('deny', 'the tool, resource or prompt name is too long');
/** Longer names are refused outright: real ones are far shorter, and matching cost grows with length. */
export const MAX_TARGET_NAME = 8 * 1024;
const EMPTY_ARGUMENTS: Readonly<Record<string, unknown>> = Object.freeze({});

/** 'call' decides a real request; 'list' asks whether the caller could use the item at all. */
export type DecideMode = 'call' | 'list';

type Outcome = 'true' | 'false' | 'error';

function run(condition: CompiledCondition, ctx: CelContext): Outcome {
  try {
    const value = condition.evaluate(ctx);
    if (value === true) return 'true';
    return value === false ? 'false' : 'error';
  } catch {
    return 'error';
  }
}

function celContext(
  principal: Principal,
  kind: TargetKind,
  name: string,
  method: string,
  server: string,
  args: unknown,
): CelContext {
  return {
    principal,
    arguments: typeof args === 'object' && args !== null && !Array.isArray(args) ? args : EMPTY_ARGUMENTS,
    server,
    method,
    tool: kind === 'tool' ? name : '',
    resource: kind === 'resource' ? name : '',
    prompt: kind === 'prompt' ? name : '',
  };
}

/**
 * In 'list' mode the arguments of a future call are unknown, so a condition that reads `arguments`
 * is assumed to allow (allow rules) or not to deny (deny rules): the item is shown, and the call
 * itself is decided with the real arguments. Conditions over the principal alone are evaluated.
 */
export function decideTarget(
  policy: CompiledPolicy,
  principal: Principal,
  kind: TargetKind,
  name: string,
  method: string,
  server: string,
  args: unknown,
  mode: DecideMode,
): Decision {
  if (name.length > MAX_TARGET_NAME) return TOO_LONG;
  const set = policy.byTarget[kind];
  let ctx: CelContext | undefined;
  for (const rule of set.deny) {
    if (!rule.targets[kind](name) || !rule.subjects(principal)) continue;
    const condition = rule.condition;
    if (condition === undefined) return rule.decision;
    if (mode === 'list' && condition.readsArguments) continue;
    ctx ??= celContext(principal, kind, name, method, server, args);
    const outcome = run(condition, ctx);
    if (outcome === 'true') return rule.decision;
    if (outcome === 'error') return rule.failedConditionDecision;
  }
  for (const rule of set.allow) {
    if (!rule.targets[kind](name) || !rule.subjects(principal)) continue;
    const condition = rule.condition;
    if (condition === undefined) return rule.decision;
    if (mode === 'list' && condition.readsArguments) return rule.decision;
    ctx ??= celContext(principal, kind, name, method, server, args);
    if (run(condition, ctx) === 'true') return rule.decision;
  }
  return DEFAULT_DENY[kind];
}

export function decide(policy: CompiledPolicy, principal: Principal, request: AuthzRequest): Decision {
  const cls = classifyMethod(request.method);
  switch (cls.kind) {
    case 'unknown':
      return UNKNOWN;
    case 'open':
      return OPEN;
    case 'list':
      return LIST;
    case 'target': {
      const name = request[cls.target];
      if (typeof name !== 'string' || name === '') return MISSING[cls.target];
      return decideTarget(
        policy,
        principal,
        cls.target,
        name,
        request.method,
        request.server,
        request.arguments,
        'call',
      );
    }
    case 'subscriptions': {
      const uris = request.subscriptions;
      if (uris === undefined || uris.length > MAX_SUBSCRIPTIONS) return BAD_SUBSCRIPTIONS;
      for (const uri of uris) {
        const d = decideTarget(
          policy,
          principal,
          'resource',
          uri,
          'resources/subscribe',
          request.server,
          undefined,
          'call',
        );
        if (d.effect === 'deny') return d;
      }
      return SUBSCRIPTIONS;
    }
    case 'completion': {
      const kind: TargetKind | undefined = request.prompt
        ? 'prompt'
        : request.resource
          ? 'resource'
          : undefined;
      const name = kind && request[kind];
      if (kind === undefined || !name) return MISSING.ref;
      return decideTarget(
        policy,
        principal,
        kind,
        name,
        request.method,
        request.server,
        request.arguments,
        'call',
      );
    }
  }
}
