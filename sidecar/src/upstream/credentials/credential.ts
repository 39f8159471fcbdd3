import type { Principal } from '../../contract/principal.ts';

// One question for every mode: which credential does this caller's request carry upstream?
// The answer names the credential (for the audit event) and holds the headers to send; the
// caller's own Portcullis token is an input only to token exchange, and only ever goes to the
// caller's identity provider.

export interface CredentialRequest {
  readonly principal: Principal;
  /** The caller's verified bearer token; only token exchange reads it. */
  readonly subjectToken: string | undefined;
}

export interface UpstreamCredential {
  /** Names the credential in audit events and logs; never its value. */
  readonly id: string;
  readonly headers: Readonly<Record<string, string>>;
}

export interface CredentialSource {
  readonly mode: 'headers' | 'perPrincipal' | 'tokenExchange' | 'clientCredentials';
  credentialFor(req: CredentialRequest): Promise<UpstreamCredential>;
  close(): void;
}

export type CredentialErrorCode =
  /** perPrincipal: the caller has no mapping (never a shared fallback). */
  | 'NO_MAPPING'
  /** tokenExchange: the caller did not authenticate with a token that can be exchanged. */
  | 'NO_SUBJECT_TOKEN'
  /** The token endpoint refused (invalid_grant: revoked or expired subject token, ...). */
  | 'REFUSED'
  /** The token endpoint could not be reached, timed out, or its circuit is open. */
  | 'UNAVAILABLE';

export class CredentialError extends Error {
  readonly code: CredentialErrorCode;
  constructor(code: CredentialErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'CredentialError';
    this.code = code;
  }
}

/** The header a token is sent in: `authorization` carries `Bearer <token>`, any other the bare token. */
export function tokenHeader(header: string, token: string): Record<string, string> {
  const name = header.toLowerCase();
  return { [name]: name === 'authorization' ? `Bearer ${token}` : token };
}
