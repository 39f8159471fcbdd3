// Every way authentication can fail, as one error type. The client gets a generic message and an
// RFC 6750 / RFC 9728 challenge; the audit record gets `detail` (never the token itself).

export type AuthnErrorCode =
  | 'missing_credentials' // no Authorization / X-API-Key at all
  | 'repeated_credentials' // Authorization or X-API-Key sent twice: which one counts is ambiguous
  | 'unsupported_scheme' // Authorization present but not Bearer
  | 'malformed_token' // not a parseable JWS compact serialization
  | 'token_too_large' // refused before parsing
  | 'algorithm_not_allowed' // alg outside the allow-list (none, HS*, ...)
  | 'unsupported_critical_header' // a `crit` extension the verifier does not understand (RFC 7515 §4.1.11)
  | 'unknown_key' // kid not in the issuer's JWKS, even after a refetch
  | 'invalid_signature'
  | 'untrusted_issuer'
  | 'invalid_audience'
  | 'expired'
  | 'not_yet_valid'
  | 'invalid_claims' // a required claim missing or of the wrong type
  | 'invalid_api_key'
  | 'insufficient_scope'
  | 'invalid_token' // any other verification failure
  | 'issuer_unavailable'; // discovery or JWKS could not be fetched: not the caller's fault

export type AuthnHttpStatus = 400 | 401 | 403 | 503;

const STATUS: Record<AuthnErrorCode, AuthnHttpStatus> = {
  missing_credentials: 401,
  repeated_credentials: 400,
  unsupported_scheme: 401,
  malformed_token: 401,
  token_too_large: 401,
  algorithm_not_allowed: 401,
  unsupported_critical_header: 401,
  unknown_key: 401,
  invalid_signature: 401,
  untrusted_issuer: 401,
  invalid_audience: 401,
  expired: 401,
  not_yet_valid: 401,
  invalid_claims: 401,
  invalid_api_key: 401,
  invalid_token: 401,
  insufficient_scope: 403,
  issuer_unavailable: 503,
};

/** Every code, for bounded metric labels (telemetry/labels.ts). */
export const AUTHN_ERROR_CODES = Object.keys(STATUS) as readonly AuthnErrorCode[];

/** Messages safe to show any client: they say what to do, not what the verifier found. */
const CLIENT_MESSAGE: Record<AuthnHttpStatus, string> = {
  400: 'Send one Authorization or X-API-Key header, once',
  401: 'Authentication required: present a valid access token',
  403: 'The access token does not carry the required scope',
  503: 'Authentication is temporarily unavailable',
};

type ChallengeError = 'invalid_request' | 'invalid_token' | 'insufficient_scope';

/** RFC 6750 §3.1 error code for the challenge; none when the caller sent no bearer credentials. */
function challengeError(code: AuthnErrorCode): ChallengeError | undefined {
  if (code === 'repeated_credentials') return 'invalid_request';
  // An unavailable issuer is not the token's fault: no error code, so clients keep their token.
  if (code === 'missing_credentials' || code === 'unsupported_scheme' || code === 'issuer_unavailable') {
    return undefined;
  }
  return code === 'insufficient_scope' ? 'insufficient_scope' : 'invalid_token';
}

export class AuthnError extends Error {
  override readonly name = 'AuthnError';
  readonly code: AuthnErrorCode;
  readonly httpStatus: AuthnHttpStatus;
  /** For the audit record: what exactly failed. Never contains the credential. */
  readonly detail: string;
  /** Full WWW-Authenticate header value for the response. */
  readonly wwwAuthenticate: string;

  constructor(code: AuthnErrorCode, detail: string, challenge: Challenge, options?: { cause?: unknown }) {
    const httpStatus = STATUS[code];
    super(CLIENT_MESSAGE[httpStatus], options);
    this.code = code;
    this.httpStatus = httpStatus;
    this.detail = detail;
    this.wwwAuthenticate = challenge.header(challengeError(code));
  }
}

/** Thrown at configuration load when the authentication section cannot be enforced safely. */
export class AuthnConfigError extends Error {
  override readonly name = 'AuthnConfigError';
  readonly code = 'invalid_authentication_config';
  /** Config path of the fault, e.g. `authentication.oidc[0].algorithms`. */
  readonly path: string;
  constructor(path: string, message: string) {
    super(`${path}: ${message}`);
    this.path = path;
  }
}

export interface Challenge {
  header(error: ChallengeError | undefined): string;
}

/** RFC 7230 quoted-string: escape backslash and double quote. */
function quote(value: string): string {
  return `"${value.replace(/[\\"]/g, '\\$&')}"`;
}

/**
 * The possible header values are built once per configuration:
 * `Bearer resource_metadata="<url>"[, error="..."][, scope="..."]`.
 */
export function createChallenge(resourceMetadataUrl: string, requiredScopes: readonly string[]): Challenge {
  const base = `Bearer resource_metadata=${quote(resourceMetadataUrl)}`;
  const scope = requiredScopes.length > 0 ? `, scope=${quote(requiredScopes.join(' '))}` : '';
  const none = base + scope;
  const values = new Map<ChallengeError, string>(
    (['invalid_request', 'invalid_token', 'insufficient_scope'] as const).map((e) => [
      e,
      `${base}, error="${e}"${scope}`,
    ]),
  );
  return { header: (error) => (error === undefined ? none : (values.get(error) as string)) };
}
