// Text a person reviewing a definition cannot see but a model reads: Unicode tag characters (which
// spell out hidden ASCII), zero-width characters and bidirectional controls (which reorder what is
// shown). Any of them in any pinned string, member names included, flags the definition.

export type SuspiciousClass = 'tag' | 'zero-width' | 'bidi';

export interface SuspiciousText {
  /** JSON pointer of the string (or member name) inside the definition. */
  readonly path: string;
  readonly class: SuspiciousClass;
  /** The first such character, as U+XXXX. */
  readonly codePoint: string;
  /** How many such characters the string holds. */
  readonly count: number;
}

// One pattern per class; `u` so tag characters (astral) are matched as code points.
const CLASSES: readonly [SuspiciousClass, RegExp][] = [
  ['tag', /[\u{E0000}-\u{E007F}]/gu],
  ['zero-width', /[\u200B-\u200D\u2060-\u2064\uFEFF\u180E\u00AD]|\u034F/gu],
  ['bidi', /[\u202A-\u202E\u2066-\u2069\u200E\u200F\u061C]/gu],
];

/** Every string in `value` holding a hidden or reordering character, at most `limit` findings. */
export function findSuspiciousText(value: unknown, limit = 16): SuspiciousText[] {
  const found: SuspiciousText[] = [];
  walk(value, '', found, limit);
  return found;
}

function walk(value: unknown, path: string, found: SuspiciousText[], limit: number): void {
  if (found.length >= limit) return;
  if (typeof value === 'string') {
    check(value, path, found, limit);
  } else if (Array.isArray(value)) {
    value.forEach((v, i) => {
      walk(v, `${path}/${i}`, found, limit);
    });
  } else if (typeof value === 'object' && value !== null) {
    for (const [k, v] of Object.entries(value)) {
      const child = `${path}/${k.replaceAll('~', '~0').replaceAll('/', '~1')}`;
      check(k, child, found, limit);
      walk(v, child, found, limit);
    }
  }
}

function check(text: string, path: string, found: SuspiciousText[], limit: number): void {
  for (const [cls, pattern] of CLASSES) {
    if (found.length >= limit) return;
    const matches = text.match(pattern);
    if (matches === null) continue;
    const cp = matches[0].codePointAt(0) ?? 0;
    found.push({
      path: path || '/',
      class: cls,
      codePoint: `U+${cp.toString(16).toUpperCase().padStart(4, '0')}`,
      count: matches.length,
    });
  }
}
