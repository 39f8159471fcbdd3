// Glob patterns of policy rules ('*' any run of characters, '?' exactly one), compiled once into a
// matcher. No regular expressions: the classic two-pointer wildcard match runs in O(name × pattern)
// at worst, so no pattern and no caller-chosen name can make it backtrack exponentially. A lone '*'
// and plain names (the common cases) skip matching altogether.

export type NameMatcher = (name: string) => boolean;

const NONE: NameMatcher = () => false;
const ANY: NameMatcher = () => true;
const STAR = 42;
const QUESTION = 63;

/** Pure: the reason a pattern is unusable, or undefined when it is fine. */
export function globProblem(pattern: string): string | undefined {
  if (pattern.length === 0) return 'pattern is empty';
  if (pattern.length > 512) return 'pattern is longer than 512 characters';
  // biome-ignore lint/suspicious/noControlCharactersInRegex: rejecting control characters is the point
  if (/[\u0000-\u001f\u007f]/.test(pattern)) return 'pattern contains a control character';
  return undefined;
}

/** UTF-16 units of the character at i, so '?' matches one character even outside the BMP. */
function charLength(s: string, i: number): number {
  const c = s.charCodeAt(i);
  if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length) {
    const d = s.charCodeAt(i + 1);
    if (d >= 0xdc00 && d <= 0xdfff) return 2;
  }
  return 1;
}

export function globMatch(pattern: string, name: string): boolean {
  let p = 0;
  let s = 0;
  let starAt = -1;
  let resumeAt = 0;
  while (s < name.length) {
    if (p < pattern.length) {
      const c = pattern.charCodeAt(p);
      if (c === STAR) {
        starAt = p++;
        resumeAt = s;
        continue;
      }
      if (c === QUESTION) {
        p++;
        s += charLength(name, s);
        continue;
      }
      if (c === name.charCodeAt(s)) {
        p++;
        s++;
        continue;
      }
    }
    if (starAt === -1) return false;
    // Let the last '*' swallow one more character and retry from there.
    p = starAt + 1;
    resumeAt += charLength(name, resumeAt);
    s = resumeAt;
  }
  while (p < pattern.length && pattern.charCodeAt(p) === STAR) p++;
  return p === pattern.length;
}

/** Patterns must already have passed globProblem. An empty list matches nothing. */
export function compileGlobs(patterns: readonly string[]): NameMatcher {
  if (patterns.length === 0) return NONE;
  if (patterns.some((p) => /^\*+$/.test(p))) return ANY;
  const literals = new Set(patterns.filter((p) => !/[*?]/.test(p)));
  // Runs of '*' mean the same as one and only cost time.
  const globs = patterns.filter((p) => /[*?]/.test(p)).map((p) => p.replace(/\*{2,}/g, '*'));
  if (globs.length === 0) {
    if (literals.size === 1) {
      const only = patterns[0];
      return (name) => name === only;
    }
    return (name) => literals.has(name);
  }
  return (name) => {
    if (literals.has(name)) return true;
    for (const g of globs) if (globMatch(g, name)) return true;
    return false;
  };
}
