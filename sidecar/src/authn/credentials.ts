// Which credential a request carries, decided from the raw headers without parsing any token.

/** Tokens above this size are refused before any decoding (ARCHITECTURE §3.2). */
export const MAX_TOKEN_BYTES = 16 * 1024;

export type Credential =
  | { kind: 'none' }
  | { kind: 'unsupported-scheme'; scheme: string | undefined }
  | { kind: 'empty-bearer' }
  | { kind: 'too-large'; bytes: number }
  | { kind: 'jwt'; token: string }
  | { kind: 'api-key'; key: string; from: 'x-api-key' | 'bearer' };

// base64url segments separated by exactly two dots; a JWE (five segments) is not accepted.
const JWS_COMPACT = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$/;
// RFC 9110 §11.4 puts one or more spaces after the scheme; a tab is accepted too (the credential is
// read here only, never passed on, so leniency cannot make two readers disagree).
const BEARER = /^Bearer(?:[ \t]+|$)/i;
const SCHEME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+(?=[ \t]|$)/;
/**
 * Schemes of the IANA HTTP Authentication Scheme Registry (and NTLM), the only ones an audit reason
 * names: anything else before the first space may be the credential itself, so it is not repeated.
 */
const KNOWN_SCHEMES = new Map(
  [
    'Basic',
    'Concealed',
    'Digest',
    'DPoP',
    'GNAP',
    'HOBA',
    'Mutual',
    'Negotiate',
    'NTLM',
    'OAuth',
    'PrivateToken',
    'SCRAM-SHA-1',
    'SCRAM-SHA-256',
    'vapid',
  ].map((s) => [s.toLowerCase(), s]),
);

/**
 * How many times a request carries each credential header, from the raw header list. Node keeps only
 * the first Authorization (and joins X-API-Key values): which one the client meant is ambiguous, so
 * a repeated one is refused rather than guessed.
 */
export function repeatedCredentialHeader(
  rawHeaders: readonly string[],
): 'Authorization' | 'X-API-Key' | undefined {
  let authorization = 0;
  let apiKey = 0;
  for (let i = 0; i < rawHeaders.length; i += 2) {
    const name = rawHeaders[i] as string;
    if (name.length === 13 && name.toLowerCase() === 'authorization' && ++authorization > 1)
      return 'Authorization';
    if (name.length === 9 && name.toLowerCase() === 'x-api-key' && ++apiKey > 1) return 'X-API-Key';
  }
  return undefined;
}

/**
 * A bearer value shaped like a JWS is a token; anything else is treated as an API key (which then
 * fails unless it matches a configured key). X-API-Key wins when both are present, since a client
 * that sends it means it.
 */
export function readCredential(authorization: string | undefined, apiKey: string | undefined): Credential {
  if (apiKey !== undefined && apiKey !== '') {
    if (apiKey.length > MAX_TOKEN_BYTES) return { kind: 'too-large', bytes: apiKey.length };
    return { kind: 'api-key', key: apiKey, from: 'x-api-key' };
  }
  if (authorization === undefined || authorization === '') return { kind: 'none' };
  if (authorization.length > MAX_TOKEN_BYTES + 7) return { kind: 'too-large', bytes: authorization.length };
  const match = BEARER.exec(authorization);
  if (match === null) {
    const scheme = SCHEME.exec(authorization)?.[0];
    return { kind: 'unsupported-scheme', scheme: scheme && KNOWN_SCHEMES.get(scheme.toLowerCase()) };
  }
  const value = authorization.slice(match[0].length).trim();
  if (value === '') return { kind: 'empty-bearer' };
  if (value.length > MAX_TOKEN_BYTES) return { kind: 'too-large', bytes: value.length };
  return looksLikeJws(value)
    ? { kind: 'jwt', token: value }
    : { kind: 'api-key', key: value, from: 'bearer' };
}

export function looksLikeJws(value: string): boolean {
  return JWS_COMPACT.test(value);
}
