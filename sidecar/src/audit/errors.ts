// Every way audit can fail, in one place. The proxy maps AUDIT_UNAVAILABLE to its own
// AUDIT_UNAVAILABLE refusal (sidecar/src/transport/errors.ts); the other codes are configuration or sink faults.

export type AuditErrorCode =
  | 'AUDIT_UNAVAILABLE'
  | 'AUDIT_CLOSED'
  | 'AUDIT_CONFIG'
  | 'AUDIT_SINK_FAILED'
  | 'AUDIT_SINK_REJECTED';

export class AuditError extends Error {
  readonly code: AuditErrorCode;

  constructor(code: AuditErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'AuditError';
    this.code = code;
  }
}

/** record() could not get the event accepted in failureMode closed: the proxy refuses the call. */
export class AuditUnavailableError extends AuditError {
  readonly sink: string;

  constructor(sink: string, message: string, options?: { cause?: unknown }) {
    super('AUDIT_UNAVAILABLE', `audit sink ${sink}: ${message}`, options);
    this.name = 'AuditUnavailableError';
    this.sink = sink;
  }
}
