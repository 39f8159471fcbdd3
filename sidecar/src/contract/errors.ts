// Policy compilation failures: each names the policy, the rule and the field at fault so the
// operator can surface it on the McpPolicy (Accepted=False) and the sidecar can refuse the config.

export type PolicyCompileErrorCode =
  | 'invalid_cel' // `when` does not parse or type-check
  | 'cel_not_bool' // `when` does not evaluate to a bool
  | 'invalid_glob' // a tools/resources/prompts pattern is unusable
  | 'invalid_subject' // a subject is not exactly one known kind
  | 'duplicate_rule'; // two rules of one policy share a name

export class PolicyCompileError extends Error {
  override readonly name = 'PolicyCompileError';
  readonly code: PolicyCompileErrorCode;
  /** `namespace/name` of the McpPolicy. */
  readonly policy: string;
  readonly rule: string;
  /** Field path inside the rule, e.g. `when` or `tools[2]`. */
  readonly field: string;
  /** Where in the field's text (a CEL condition) the fault is, 1-based, when known. */
  readonly position?: { line: number; column: number };

  constructor(
    code: PolicyCompileErrorCode,
    where: { policy: string; rule: string; field: string },
    message: string,
    options?: { cause?: unknown; position?: { line: number; column: number } },
  ) {
    super(`policy ${where.policy}, rule ${where.rule}, ${where.field}: ${message}`, options);
    this.code = code;
    this.policy = where.policy;
    this.rule = where.rule;
    this.field = where.field;
    if (options?.position !== undefined) this.position = options.position;
  }
}
