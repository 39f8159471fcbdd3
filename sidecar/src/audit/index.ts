// The audit component's public surface; re-exports only.

export { AuditConfig, type AuditSinkConfig, CaptureLevel } from '../contract/audit.ts';
export { type Auditor, type AuditorDeps, createAuditor, defaultInstanceId } from './auditor.ts';
export { AuditError, type AuditErrorCode, AuditUnavailableError } from './errors.ts';
export {
  AUDIT_SCHEMA_ID,
  AuditEvent,
  type AuditInput,
  type AuditOutcome,
  type AuditPrincipal,
} from './event.ts';
export { createAuditRecorder, toAuditInput } from './recorder.ts';
export type { AuditLogger, AuditSink } from './sinks/sink.ts';
export { createVerifier, type VerifyState, verifyText } from './verify.ts';
