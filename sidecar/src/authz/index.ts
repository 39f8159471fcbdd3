export type { ConfiguredRule } from '../contract/config.ts';
export { type AuthzRequest, decide, decideTarget } from '../contract/decide.ts';
export type { Decision } from '../contract/decision.ts';
export { PolicyCompileError, type PolicyCompileErrorCode } from '../contract/errors.ts';
export { filterListResult } from '../contract/filter-list.ts';
export {
  classifyMethod,
  type MessageTarget,
  type MethodClass,
  type TargetKind,
  targetOf,
} from '../contract/methods.ts';
export { type CompiledPolicy, compilePolicy } from '../contract/policy.ts';
