// The contract between the operator and the sidecar: the configuration file's schema (every section),
// its types and constants, and the policy language (compiler, decider, method table) that gives the
// rules their meaning. The operator, which renders the file and validates policies, imports the
// sidecar through this module only; contract/ itself imports nothing else of the sidecar (a unit test,
// test/unit/architecture/import-graph.test.ts, holds both rules).

export {
  AuditConfig,
  AuditLimits,
  AuditQueue,
  AuditSinkConfig,
  CaptureLevel,
  FileSink,
  HttpSink,
  OtlpSink,
  Payloads,
  SecretRef,
  StdoutSink,
  SyslogSink,
} from './audit.ts';
export { Authentication } from './authentication.ts';
export { type ClaimsResult, oidcPrincipal, serviceAccountPrincipal } from './claims.ts';
export {
  Admin,
  Authorization,
  CONFIG_API_VERSION,
  ConfiguredRule,
  Limits,
  Listen,
  SidecarConfig,
} from './config.ts';
export { type AuthzRequest, decide, decideTarget } from './decide.ts';
export type { Decision } from './decision.ts';
export { PolicyCompileError, type PolicyCompileErrorCode } from './errors.ts';
export { filterListResult } from './filter-list.ts';
export {
  classifyMethod,
  type ListField,
  type MessageTarget,
  type MethodClass,
  normalizeTargetUris,
  type TargetKind,
  targetOf,
} from './methods.ts';
export { DEFAULT_REFRESH_MS, Pin, PinningConfig, PinningMode } from './pinning.ts';
export { type CompiledPolicy, compilePolicy } from './policy.ts';
export { PolicyRule, Subject } from './policy-rule.ts';
export {
  ANONYMOUS_PRINCIPAL,
  type AuthMethod,
  type Principal,
  SERVICE_ACCOUNTS_GROUP,
  UNAUTHENTICATED_GROUP,
} from './principal.ts';
export { normalizeResourceUri } from './resource-uri.ts';
export { TelemetryConfig } from './telemetry.ts';
export { CircuitBreaker, StdioLauncher, StdioProcesses, Upstream, UpstreamTls } from './upstream.ts';
export {
  ClientCredentialsAuth,
  HeadersAuth,
  OutboundResilience,
  PerPrincipalAuth,
  TokenExchangeAuth,
  UpstreamAuth,
} from './upstream-auth.ts';
