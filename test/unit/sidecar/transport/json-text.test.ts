import { describe, expect, it } from 'vitest';
import { foldKey, scanJsonText, type WatchedMembers } from '../../../../sidecar/src/transport/json-text.ts';

// The raw-text scan that finds what JSON.parse hides: each case names what another parser (Go's
// encoding/json, Python's json, body-parser) would read differently from JavaScript.

const LIMIT = 8;
const scan = (text: string) => scanJsonText(text, LIMIT).problem;

describe('nesting depth', () => {
  it.each([
    ['flat object', '{"a":1}', 1, undefined],
    ['at the limit', '[[[]]]', 3, undefined],
    ['one past the limit', '[[[[]]]]', 3, 'depth'],
    ['brackets inside strings do not count', '{"a":"[[[[[[[["}', 1, undefined],
    ['escaped quote keeps the string open', '{"a":"\\"[[[["}', 1, undefined],
  ])('%s', (_name, text, limit, kind) => {
    expect(scanJsonText(text, limit).problem?.kind).toBe(kind);
  });

  it('reports depth even after another problem, so JSON.parse never sees a deep body', () => {
    expect(scanJsonText(`{"a":1,"a":2,"b":${'['.repeat(20)}${']'.repeat(20)}}`, LIMIT).problem?.kind).toBe(
      'depth',
    );
  });
});

describe('what other parsers read differently is found', () => {
  it.each([
    ['a duplicate top-level member', '{"method":"ping","method":"tools/call"}', 'appears twice'],
    ['a duplicate in params', '{"params":{"name":"echo","name":"get-env"}}', 'appears twice'],
    [
      'a duplicate spelled with an escape',
      '{"params":{"name":"echo","\\u006eame":"get-env"}}',
      'appears twice',
    ],
    [
      'a duplicate deep in arguments',
      '{"params":{"arguments":{"a":{"path":"/x","path":"/y"}}}}',
      'appears twice',
    ],
    ['ASCII case (Go matches Method to method)', '{"method":"ping","Method":"tools/call"}', 'only in case'],
    ['case in params', '{"params":{"name":"echo","Name":"get-env"}}', 'only in case'],
    ['case in arguments', '{"params":{"arguments":{"path":"/tmp","PATH":"/etc"}}}', 'only in case'],
    [
      'long s (U+017F folds to s)',
      '{"params":{"name":"echo"},"param\u017F":{"name":"get-env"}}',
      'only in case',
    ],
    ['Kelvin sign (U+212A folds to k)', '{"params":{"kind":"a","\u212Aind":"b"}}', 'only in case'],
    ['an escaped Kelvin sign', '{"params":{"kind":"a","\\u212Aind":"b"}}', 'only in case'],
    ['a lone high surrogate', '{"params":{"name":"get-env\\ud800"}}', 'unpaired surrogate'],
    ['a lone low surrogate', '{"params":{"name":"\\udc00get-env"}}', 'unpaired surrogate'],
    ['a high surrogate followed by a non-surrogate escape', '{"a":"\\ud800\\u0041"}', 'unpaired surrogate'],
    ['a lone surrogate in a member name', '{"\\ud800":1}', 'unpaired surrogate'],
    ['an integer beyond 2^53', '{"id":9007199254740993,"method":"ping"}', 'beyond'],
    ['a negative integer beyond 2^53', '{"a":-9007199254740993}', 'beyond'],
    ['a number that overflows', '{"a":1e400}', 'out of range'],
    ['a negative overflow', '{"a":-1.5E+999}', 'out of range'],
  ])('%s', (_name, text, detail) => {
    const problem = scan(text);
    expect(problem?.kind).toBe('ambiguous');
    expect(problem?.detail).toContain(detail);
  });
});

describe('what every parser reads alike passes', () => {
  it.each([
    [
      'an MCP request',
      '{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"echo","arguments":{"message":"hi"}}}',
    ],
    ['the same name in different objects', '{"name":"a","params":{"name":"b","arguments":{"name":"c"}}}'],
    ['names that differ by more than case', '{"method":"a","methods":"b","Method1":"c"}'],
    ['dotted capital I (Go does not fold it to i)', '{"i":1,"\u0130":2}'],
    ['a surrogate pair escape', '{"a":"\\ud83d\\ude00","b":"😀"}'],
    ['member-like text inside strings', '{"a":"\\"a\\":1,\\"a\\":2","b":"{\\"A\\":1}"}'],
    ['the largest safe integer', '{"a":9007199254740991,"b":-9007199254740991}'],
    ['long decimals (all read as the same double)', '{"a":0.1000000000000000055511151231257827,"b":1.5e300}'],
    ['arrays of objects with the same names', '[{"id":1,"method":"a"},{"id":2,"method":"b"}]'],
    ['an escaped quote before a name', '{"a":"x\\\\","b":1}'],
  ])('%s', (_name, text) => {
    expect(scan(text)).toBeUndefined();
  });
});

describe('members that read as watched ones', () => {
  const folds = (...names: string[]) => new Map(names.map((n) => [foldKey(n), n]));
  const watched: WatchedMembers = {
    folds: folds('method', 'params'),
    below: new Map([['params', { folds: folds('name', 'uri') }]]),
  };
  const disguised = (text: string) => scanJsonText(text, LIMIT, watched).disguised;

  it.each([
    ['a member of the top-level object', '{"Method":"x"}', [[0, 'member "Method" reads as "method"']]],
    ['a long-s spelling', '{"params":{"ſname":1,"uri":"a"}}', undefined],
    ['an escaped spelling', '{"\u004dethod":"x"}', [[0, 'member "Method" reads as "method"']]],
    ['a member of a watched object below', '{"params":{"URI":"a"}}', [[0, 'member "URI" reads as "uri"']]],
    [
      'the element itself before the object below it, whatever the text order',
      '{"params":{"NAME":"a"},"METHOD":"x"}',
      [[0, 'member "METHOD" reads as "method"']],
    ],
    [
      'the first in text order within one object',
      '{"Params":{},"Method":"x"}',
      [[0, 'member "Params" reads as "params"']],
    ],
    [
      'each element of a top-level array by its index',
      '[{"method":"a"},1,{"Method":"b"},{"params":{"Name":"c"}}]',
      [
        [2, 'member "Method" reads as "method"'],
        [3, 'member "Name" reads as "name"'],
      ],
    ],
    [
      'not in unwatched objects below',
      '{"params":{"arguments":{"Name":"a"}},"result":{"Method":1}}',
      undefined,
    ],
    ['not in objects inside arrays below', '{"params":[{"Name":"a"}]}', undefined],
    ['not in nested top-level arrays', '[[{"Method":"a"}]]', undefined],
    ['not for the watched names themselves', '{"method":"a","params":{"name":"b","uri":"c"}}', undefined],
  ])('%s', (_name, text, expected) => {
    expect(disguised(text)).toEqual(
      expected === undefined ? undefined : new Map(expected as [number, string][]),
    );
  });

  it('is not looked for without watched members', () => {
    expect(scanJsonText('{"Method":"x"}', LIMIT).disguised).toBeUndefined();
  });
});

describe('foldKey', () => {
  it.each([
    ['method', 'Method'],
    ['s', '\u017F'],
    ['k', '\u212A'],
    ['\u00E5', '\u212B'],
    ['\u03C3', '\u03C2'],
    ['\u00DF', '\u1E9E'],
    ['\u03B8', '\u03D1'],
  ])('%s and %s collide', (a, b) => {
    expect(foldKey(a)).toBe(foldKey(b));
  });

  // Every pair of characters that Unicode simple case folding equates (what Go's EqualFold and
  // JavaScript's /iu regular expressions use) must share a key; a pair it misses would let a Go
  // upstream read a member the sidecar never decided on.
  it('gives one key to every pair of characters equal under simple case folding', () => {
    const cased: string[] = [];
    for (let cp = 0x41; cp <= 0x1e943; cp++) {
      if (cp >= 0xd800 && cp <= 0xdfff) continue;
      const ch = String.fromCodePoint(cp);
      if (ch.toLowerCase() !== ch || ch.toUpperCase() !== ch) cased.push(ch);
    }
    const all = cased.join('');
    const missed: string[] = [];
    for (const ch of cased) {
      const escaped = `\\u{${ch.codePointAt(0)?.toString(16)}}`;
      for (const m of all.matchAll(new RegExp(escaped, 'giu'))) {
        if (foldKey(m[0]) !== foldKey(ch)) missed.push(`${escaped}~${m[0].codePointAt(0)?.toString(16)}`);
      }
    }
    expect(missed).toEqual([]);
  });
});
