// Text a person reviewing a definition cannot see but a model reads. Unicode properties, not a hand
// list, so every invisible or reordering character is covered, including ones a list would forget:
// - tag characters (U+E0000–U+E007F) spell out hidden ASCII;
// - variation selectors (U+FE00–FE0F, U+E0100–E01EF, Mongolian U+180B–180F) carry a byte each
//   ("emoji smuggling"); a single FE0E/FE0F right after an emoji is ordinary emoji presentation;
// - other default-ignorable and format characters (zero-width, Hangul fillers, U+1D173–1D17A,
//   Khmer U+17B4–17B5, interlinear annotation U+FFF9–FFFB, soft hyphen) render as nothing; a ZWJ
//   joining two emoji is an ordinary emoji sequence;
// - bidirectional controls reorder what is shown;
// - private-use characters have no agreed meaning or glyph;
// - C0/C1 controls (ANSI escapes included) and line/paragraph separators rewrite or split what a
//   terminal or log shows; tab, LF and CR are ordinary text.
// Any of them in any pinned string, member names included, flags the definition.

export type SuspiciousClass =
  | 'tag'
  | 'variation-selector'
  | 'zero-width'
  | 'bidi'
  | 'private-use'
  | 'control';

export interface SuspiciousText {
  /** JSON pointer of the string (or member name) inside the definition. */
  readonly path: string;
  readonly class: SuspiciousClass;
  /** The first such character, as U+XXXX. */
  readonly codePoint: string;
  /** How many such characters the string holds. */
  readonly count: number;
}

// One pattern per class, disjoint (`v` set subtraction), so each character is reported once.
const TAG = String.raw`[\u{E0000}-\u{E007F}]`;
const EMOJI = String.raw`[\p{Extended_Pictographic}\p{Emoji}]`;
const CLASSES: readonly [SuspiciousClass, RegExp][] = [
  ['tag', new RegExp(TAG, 'gv')],
  [
    'variation-selector',
    new RegExp(String.raw`(?<!${EMOJI})[\uFE0E\uFE0F]|[\p{Variation_Selector}--[\uFE0E\uFE0F]]`, 'gv'),
  ],
  [
    'zero-width',
    new RegExp(
      String.raw`(?<!${EMOJI}\uFE0F?)\u200D|\u200D(?!\p{Extended_Pictographic})|[[\p{Default_Ignorable_Code_Point}\p{Cf}]--${TAG}--\p{Variation_Selector}--\p{Bidi_Control}--[\u200D]]`,
      'gv',
    ),
  ],
  ['bidi', /\p{Bidi_Control}/gv],
  ['private-use', /\p{Co}/gv],
  ['control', /[[\p{Cc}\p{Zl}\p{Zp}]--[\t\n\r]]/gv],
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
