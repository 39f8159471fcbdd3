export { type AuthzRequest, decide, decideTarget } from './decide.ts';
export type { Decision } from './decision.ts';
export { PolicyCompileError, type PolicyCompileErrorCode } from './errors.ts';
export { filterListResult } from './filter-list.ts';
export {
  classifyMethod,
  type MessageTarget,
  type MethodClass,
  type TargetKind,
  targetOf,
} from './methods.ts';
export { type CompiledPolicy, type ConfiguredRule, compilePolicy } from './policy.ts';
