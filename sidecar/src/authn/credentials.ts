// Which credential a request carries, decided from the raw headers without parsing any token.

/** Tokens above this size are refused before any decoding (ARCHITECTURE §3.2). */
export const MAX_TOKEN_BYTES = 16 * 1024;

export type Credential =
  | { kind: 'none' }
  | { kind: 'unsupported-scheme'; scheme: string }
  | { kind: 'too-large'; bytes: number }
  | { kind: 'jwt'; token: string }
  | { kind: 'api-key'; key: string; from: 'x-api-key' | 'bearer' };

// base64url segments separated by exactly two dots; a JWE (five segments) is not accepted.
const JWS_COMPACT = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$/;
const BEARER = /^Bearer[ ]+/i;

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
    const space = authorization.indexOf(' ');
    return {
      kind: 'unsupported-scheme',
      scheme: space === -1 ? authorization.slice(0, 16) : authorization.slice(0, Math.min(space, 16)),
    };
  }
  const value = authorization.slice(match[0].length).trim();
  if (value === '') return { kind: 'none' };
  if (value.length > MAX_TOKEN_BYTES) return { kind: 'too-large', bytes: value.length };
  return looksLikeJws(value)
    ? { kind: 'jwt', token: value }
    : { kind: 'api-key', key: value, from: 'bearer' };
}

export function looksLikeJws(value: string): boolean {
  return JWS_COMPACT.test(value);
}
