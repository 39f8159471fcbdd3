// Errors of the Kubernetes client, one class with a code union so callers can `switch (err.code)`.

export type KubeErrorCode =
  | 'NOT_FOUND' // 404
  | 'CONFLICT' // 409: resourceVersion precondition or field-manager conflict
  | 'GONE' // 410: resourceVersion too old, re-list
  | 'INVALID' // 422 or 400: the object was refused by validation
  | 'FORBIDDEN' // 401, 403: RBAC
  | 'UNAVAILABLE' // 429, 5xx, network: retry with backoff
  | 'UNEXPECTED';

export class KubeError extends Error {
  readonly code: KubeErrorCode;
  readonly status: number;
  /** The API server's Status reason (e.g. 'AlreadyExists', 'Invalid'), when it sent one. */
  readonly reason: string | undefined;

  constructor(code: KubeErrorCode, status: number, message: string, reason?: string, cause?: unknown) {
    super(message, { cause });
    this.name = 'KubeError';
    this.code = code;
    this.status = status;
    this.reason = reason;
  }
}

export function codeForStatus(status: number): KubeErrorCode {
  if (status === 404) return 'NOT_FOUND';
  if (status === 409) return 'CONFLICT';
  if (status === 410) return 'GONE';
  if (status === 400 || status === 422) return 'INVALID';
  if (status === 401 || status === 403) return 'FORBIDDEN';
  if (status === 429 || status >= 500) return 'UNAVAILABLE';
  return 'UNEXPECTED';
}

export function isKubeError(err: unknown, code?: KubeErrorCode): err is KubeError {
  return err instanceof KubeError && (code === undefined || err.code === code);
}
