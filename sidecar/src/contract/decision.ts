// The outcome of authorizing one MCP message: the only Decision type, shared by the policy compiler
// (which freezes every possible one up front), the decider and the pipeline's policy port.

export interface Decision {
  effect: 'allow' | 'deny';
  /** The rule that decided; absent for default deny and for methods that need no rule. */
  rule?: { policy: string; name: string };
  /** Safe to show the caller; names the rule when one decided. */
  reason: string;
  /** Extra members of the JSON-RPC error's data (a held tool definition's digests). */
  data?: Readonly<Record<string, unknown>>;
}
