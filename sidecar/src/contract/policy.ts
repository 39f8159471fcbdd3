import { type CompiledCondition, createCelCompiler } from './cel.ts';
import type { ConfiguredRule } from './config.ts';
import type { Decision } from './decision.ts';
import { PolicyCompileError } from './errors.ts';
import { compileGlobs, globProblem, type NameMatcher } from './glob.ts';
import type { TargetKind } from './methods.ts';
import { resourcePatternProblem } from './resource-uri.ts';
import { compileSubjects, type SubjectMatcher } from './subjects.ts';

// compilePolicy turns the configured rules into matchers once, at configuration load: globs into
// matchers, subjects into predicates, CEL into checked programs, and every possible Decision into a
// frozen object, so deciding a request allocates nothing.

export interface CompiledRule {
  readonly policy: string;
  readonly name: string;
  readonly action: 'allow' | 'deny';
  readonly subjects: SubjectMatcher;
  readonly targets: Readonly<Record<TargetKind, NameMatcher>>;
  readonly condition: CompiledCondition | undefined;
  /** The decision when this rule matches. */
  readonly decision: Decision;
  /** Deny rules only: the decision when the condition fails to evaluate (fail closed). */
  readonly failedConditionDecision: Decision;
}

export interface RuleSet {
  readonly deny: readonly CompiledRule[];
  readonly allow: readonly CompiledRule[];
}

export interface CompiledPolicy {
  /** Rules split by what they cover: a rule without `tools` patterns never decides a tool. */
  readonly byTarget: Readonly<Record<TargetKind, RuleSet>>;
  readonly rules: readonly CompiledRule[];
}

const FIELD: Record<TargetKind, 'tools' | 'resources' | 'prompts'> = {
  tool: 'tools',
  resource: 'resources',
  prompt: 'prompts',
};

function compileRule(rule: ConfiguredRule, cel: ReturnType<typeof createCelCompiler>): CompiledRule {
  const where = (field: string) => ({ policy: rule.policy, rule: rule.name, field });

  let subjects: SubjectMatcher;
  try {
    subjects = compileSubjects(rule.subjects);
  } catch (cause) {
    throw new PolicyCompileError('invalid_subject', where('subjects'), (cause as Error).message, { cause });
  }

  const targets = {} as Record<TargetKind, NameMatcher>;
  for (const kind of ['tool', 'resource', 'prompt'] as const) {
    const patterns = rule[FIELD[kind]] ?? [];
    patterns.forEach((p, i) => {
      const problem = globProblem(p) ?? (kind === 'resource' ? resourcePatternProblem(p) : undefined);
      if (problem) throw new PolicyCompileError('invalid_glob', where(`${FIELD[kind]}[${i}]`), problem);
    });
    targets[kind] = compileGlobs(patterns);
  }

  let condition: CompiledCondition | undefined;
  if (rule.when !== undefined) {
    const compiled = cel(rule.when);
    if (!compiled.ok) {
      throw new PolicyCompileError(compiled.code, where('when'), compiled.message, {
        cause: compiled.cause,
        position: compiled.position,
      });
    }
    condition = compiled.condition;
  }

  const ref = Object.freeze({ policy: rule.policy, name: rule.name });
  const label = `rule ${rule.name} of policy ${rule.policy}`;
  const decision: Decision = Object.freeze(
    rule.action === 'allow'
      ? { effect: 'allow', rule: ref, reason: `allowed by ${label}` }
      : { effect: 'deny', rule: ref, reason: `denied by ${label}` },
  );
  const failedConditionDecision: Decision = Object.freeze({
    effect: 'deny',
    rule: ref,
    reason: `denied by ${label} (its condition could not be evaluated)`,
  });

  return Object.freeze({
    policy: rule.policy,
    name: rule.name,
    action: rule.action,
    subjects,
    targets: Object.freeze(targets),
    condition,
    decision,
    failedConditionDecision,
  });
}

export function compilePolicy(rules: readonly ConfiguredRule[]): CompiledPolicy {
  const cel = createCelCompiler();
  const seen = new Set<string>();
  const compiled = rules.map((rule) => {
    const key = `${rule.policy}\u0000${rule.name}`;
    if (seen.has(key)) {
      throw new PolicyCompileError(
        'duplicate_rule',
        { policy: rule.policy, rule: rule.name, field: 'name' },
        'another rule of this policy has the same name',
      );
    }
    seen.add(key);
    return compileRule(rule, cel);
  });

  const split = (kind: TargetKind): RuleSet => {
    const covering = compiled.filter((_, i) => (rules[i]?.[FIELD[kind]]?.length ?? 0) > 0);
    return Object.freeze({
      deny: Object.freeze(covering.filter((r) => r.action === 'deny')),
      allow: Object.freeze(covering.filter((r) => r.action === 'allow')),
    });
  };

  return Object.freeze({
    byTarget: Object.freeze({ tool: split('tool'), resource: split('resource'), prompt: split('prompt') }),
    rules: Object.freeze(compiled),
  });
}
