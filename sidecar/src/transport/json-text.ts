// What JSON.parse hides and other parsers read differently, found on the raw text in one linear pass
// before it is parsed:
// - nesting deeper than the limit (checked first, so a hostile body builds no deep object graph);
// - a member name twice in one object (JSON.parse keeps the last, some parsers the first);
// - two member names equal under Unicode simple case folding (Go's encoding/json matches struct
//   fields that way: `"Method"` or `"ſ"` reach the field `method` or `s`);
// - an escaped lone surrogate (`"\ud800"`: Go reads U+FFFD, JavaScript and Python keep it);
// - a number that does not survive as a double: an integer beyond ±(2^53−1), which Go and Python
//   read exactly but JavaScript rounds, or a literal that overflows to infinity.
// Hand-written rather than a JSON library with an AST: this runs on every message, and only a
// character loop with a key set per object keeps it within a fraction of JSON.parse's own cost.
// It assumes nothing of the text's validity: JSON.parse still judges the syntax.
//
// The same pass folds every member name once, so it also finds, for the caller's watched objects (a
// JSON-RPC message and its params), a member that folds to a watched name without being it: what a
// case-insensitive parser takes for that member even where no two names of the object collide.

export type JsonTextProblem =
  | { readonly kind: 'depth'; readonly detail: string }
  | { readonly kind: 'ambiguous'; readonly detail: string };

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const LOWER_U = 0x75;

/**
 * The key two member names share when Go would match one to the other: Unicode simple case
 * folding, approximated by uppercasing the lowercase form (equal whenever the folds are equal;
 * a few names Go tells apart, such as "ss" and "ß", are refused too).
 */
export function foldKey(name: string): string {
  return name.toLowerCase().toUpperCase();
}

/**
 * Member names watched in the top-level object (or in each element of a top-level array) and, through
 * `below`, in the objects that are the values of some of its members.
 */
export interface WatchedMembers {
  /** Folded name → the name itself. */
  readonly folds: ReadonlyMap<string, string>;
  readonly below?: ReadonlyMap<string, WatchedMembers>;
}

export interface JsonTextScan {
  readonly problem: JsonTextProblem | undefined;
  /**
   * By top-level element (its index in a top-level array, else 0): the first member that reads as a
   * watched one without being it, those of the element itself before those of the objects below it.
   */
  readonly disguised: ReadonlyMap<number, string> | undefined;
}

interface Frame {
  readonly object: boolean;
  /** Folded member name → name as sent; created at the first member. */
  names: Map<string, string> | undefined;
  /** What is watched in this object; undefined for every other object and array. */
  readonly watch: WatchedMembers | undefined;
  /** Levels below the top-level element (0: the element itself). */
  readonly level: number;
  /** The member whose value comes next; kept only where `watch.below` needs it. */
  member: string | undefined;
}

interface Disguise {
  readonly level: number;
  readonly detail: string;
}

export function scanJsonText(text: string, maxDepth: number, watched?: WatchedMembers): JsonTextScan {
  const stack: Frame[] = [];
  let expectName = false;
  let found: JsonTextProblem | undefined;
  let element = 0;
  let disguised: Map<number, Disguise> | undefined;
  const n = text.length;
  for (let i = 0; i < n; i++) {
    const c = text.charCodeAt(i);
    if (c === QUOTE) {
      const start = i;
      let escaped = false;
      let ascii = true;
      for (i++; i < n; i++) {
        const d = text.charCodeAt(i);
        if (d === QUOTE) break;
        if (d !== BACKSLASH) {
          if (d > 0x7f) ascii = false;
          continue;
        }
        escaped = true;
        if (text.charCodeAt(i + 1) !== LOWER_U) {
          i++;
          continue;
        }
        const unit = hex4(text, i + 2);
        if (unit >= 0xd800 && unit <= 0xdbff) {
          const next = text.charCodeAt(i + 6) === BACKSLASH && text.charCodeAt(i + 7) === LOWER_U;
          const low = next ? hex4(text, i + 8) : -1;
          if (low < 0xdc00 || low > 0xdfff)
            found ??= ambiguous('a string holds an unpaired surrogate escape');
          else i += 6;
        } else if (unit >= 0xdc00 && unit <= 0xdfff) {
          found ??= ambiguous('a string holds an unpaired surrogate escape');
        }
        i += 5;
      }
      if (expectName && found === undefined) {
        expectName = false;
        const frame = stack[stack.length - 1];
        const name = memberName(text, start, i, escaped);
        if (frame === undefined || name === undefined) continue;
        // ASCII folds by uppercasing alone; only other names need the two-step fold.
        const folded = ascii && !escaped ? name.toUpperCase() : foldKey(name);
        found = checkName(frame, name, folded);
        if (frame.watch === undefined) continue;
        const meant = frame.watch.folds.get(folded);
        if (meant !== undefined && meant !== name) {
          disguised ??= new Map();
          const earlier = disguised.get(element);
          if (earlier === undefined || frame.level < earlier.level)
            disguised.set(element, {
              level: frame.level,
              detail: `member "${name.slice(0, 32)}" reads as "${meant}"`,
            });
        }
        if (frame.watch.below !== undefined) frame.member = name;
      }
      continue;
    }
    if (c === 0x7b || c === 0x5b) {
      if (stack.length >= maxDepth)
        return {
          problem: { kind: 'depth', detail: `nesting deeper than ${maxDepth}` },
          disguised: undefined,
        };
      const parent = stack[stack.length - 1];
      let watch: WatchedMembers | undefined;
      let level = 0;
      if (c === 0x7b && watched !== undefined) {
        if (parent === undefined || (stack.length === 1 && !parent.object)) watch = watched;
        else if (parent.member !== undefined) {
          watch = parent.watch?.below?.get(parent.member);
          level = parent.level + 1;
        }
      }
      stack.push({ object: c === 0x7b, names: undefined, watch, level, member: undefined });
      expectName = c === 0x7b;
    } else if (c === 0x7d || c === 0x5d) {
      stack.pop();
      expectName = false;
    } else if (c === 0x2c) {
      const top = stack[stack.length - 1];
      expectName = top?.object === true;
      if (stack.length === 1 && !expectName) element++;
    } else if (c === 0x2d || (c >= 0x30 && c <= 0x39)) {
      const start = i;
      let plain = true; // digits and sign only: an integer literal
      for (; i + 1 < n; i++) {
        const d = text.charCodeAt(i + 1);
        if (d >= 0x30 && d <= 0x39) continue;
        if (d === 0x2e || d === 0x65 || d === 0x45 || d === 0x2b || d === 0x2d) plain = false;
        else break;
      }
      // Fifteen digits always fit a double exactly: only longer integers, fractions and exponents are read.
      if (found === undefined && (i - start >= 15 || !plain))
        found = checkNumber(text.slice(start, i + 1), plain);
    }
  }
  if (disguised === undefined) return { problem: found, disguised: undefined };
  return { problem: found, disguised: new Map([...disguised].map(([i, d]) => [i, d.detail])) };
}

function ambiguous(detail: string): JsonTextProblem {
  return { kind: 'ambiguous', detail };
}

/** The four hex digits at i as a number, or -1. */
function hex4(text: string, i: number): number {
  const digits = text.slice(i, i + 4);
  return /^[0-9a-fA-F]{4}$/.test(digits) ? Number.parseInt(digits, 16) : -1;
}

function memberName(text: string, start: number, end: number, escaped: boolean): string | undefined {
  if (!escaped) return text.slice(start + 1, end);
  try {
    return JSON.parse(text.slice(start, end + 1)) as string;
  } catch {
    return undefined; // not valid JSON: JSON.parse will say so
  }
}

function checkName(frame: Frame, name: string, folded: string): JsonTextProblem | undefined {
  frame.names ??= new Map();
  const earlier = frame.names.get(folded);
  if (earlier === undefined) {
    frame.names.set(folded, name);
    return undefined;
  }
  return earlier === name
    ? ambiguous(`member ${JSON.stringify(name.slice(0, 64))} appears twice in one object`)
    : ambiguous(
        `members ${JSON.stringify(earlier.slice(0, 64))} and ${JSON.stringify(name.slice(0, 64))} differ only in case`,
      );
}

function checkNumber(literal: string, integer: boolean): JsonTextProblem | undefined {
  const value = Number(literal);
  if (Number.isNaN(value)) return undefined; // not a number literal: JSON.parse will say so
  if (!Number.isFinite(value)) return ambiguous(`number ${literal.slice(0, 32)} is out of range`);
  if (integer && !Number.isSafeInteger(value)) {
    return ambiguous(`integer ${literal.slice(0, 32)} is beyond ±(2^53−1): send it as a string`);
  }
  return undefined;
}
