// Resource URIs are decided and forwarded in one normalized form, so a rule that names a resource
// also covers its aliases. The MCP SDK server looks resources up by `new URL(uri).toString()`, which
// lowercases the scheme and removes dot segments: `DEMO://x`, `demo://x/./a` and `demo://x/b/../a`
// read what a rule names as `demo://x/a`. Normalizing here (WHATWG URL, as the SDK does, plus the
// RFC 3986 §6.2.2 steps it leaves out) and forwarding the result means every upstream reads the
// exact string the rules matched; for the SDK it is a no-op, since the form is a fixed point.

const UNRESERVED_ESCAPE = /%(2[dDeE]|3\d|[46][1-9a-fA-F]|[57][0-9aA]|5[fF]|7[eE])/g;
const ESCAPE = /%[0-9a-fA-F]{2}/g;

/**
 * Pure: the normalized form of a resource URI, or undefined when it is not an absolute URI.
 * Steps: percent-encoded unreserved characters decoded (`%41` → `A`, `%2e` → `.`, RFC 3986
 * §6.2.2.2); WHATWG URL parsing (scheme lowercased, dot segments removed, surrounding spaces
 * trimmed, characters that need it percent-encoded); host lowercased; hex digits of the remaining
 * escapes uppercased (§6.2.2.1). Idempotent: normalizing the result returns it unchanged.
 */
export function normalizeResourceUri(uri: string): string | undefined {
  const decoded = uri.includes('%')
    ? uri.replace(UNRESERVED_ESCAPE, (_m, hex: string) => String.fromCharCode(Number.parseInt(hex, 16)))
    : uri;
  let url: URL;
  try {
    url = new URL(decoded);
  } catch {
    return undefined;
  }
  // Hosts are case-insensitive (RFC 3986 §3.2.2); WHATWG lowercases them for http-like schemes only.
  if (url.hostname !== '' && url.hostname !== url.hostname.toLowerCase()) {
    url.hostname = url.hostname.toLowerCase();
  }
  const href = url.href;
  return href.includes('%') ? href.replace(ESCAPE, (m) => m.toUpperCase()) : href;
}

/**
 * Pure: why a resource pattern of a rule can never match a normalized URI, or undefined. A pattern
 * is checked with its wildcards stood in for by a letter: `DEMO://x/*` or `demo://x/./a` would match
 * nothing, silently (a deny rule that never applies), so the configuration is refused instead.
 */
export function resourcePatternProblem(pattern: string): string | undefined {
  // A pattern that starts with a wildcard (`*`, `*%2F*`) has no scheme to check.
  if (pattern.startsWith('*') || pattern.startsWith('?')) return undefined;
  const probe = pattern.replace(/[*?]/g, 'x');
  const normalized = normalizeResourceUri(probe);
  if (normalized === undefined) return 'resource pattern is not an absolute URI (e.g. demo://resource/*)';
  if (normalized !== probe) {
    return 'resource pattern is not in normalized form: URIs are matched normalized (lowercase scheme and host, no dot segments, no percent-encoded letters, digits or -._~)';
  }
  return undefined;
}
