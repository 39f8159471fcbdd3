export { type AuthzRequest, decide, decideTarget } from './decide.ts';
export { PolicyCompileError, type PolicyCompileErrorCode } from './errors.ts';
export { filterListResult } from './filter-list.ts';
export {
  classifyMethod,
  type MessageTarget,
  type MethodClass,
  type TargetKind,
  targetOf,
} from './methods.ts';
export { type CompiledPolicy, type ConfiguredRule, compilePolicy, type Decision } from './policy.ts';
