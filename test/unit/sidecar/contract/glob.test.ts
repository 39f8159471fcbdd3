import { describe, expect, it } from 'vitest';
import { compileGlobs, globProblem } from '../../../../sidecar/src/contract/glob.ts';

describe('compileGlobs', () => {
  it.each([
    { patterns: ['*'], name: 'anything', match: true },
    { patterns: [], name: 'anything', match: false },
    { patterns: ['search'], name: 'search', match: true },
    { patterns: ['search'], name: 'search2', match: false },
    { patterns: ['a', 'b'], name: 'b', match: true },
    { patterns: ['search_*'], name: 'search_', match: true },
    { patterns: ['search_*'], name: 'xsearch_a', match: false },
    { patterns: ['v?'], name: 'v1', match: true },
    { patterns: ['v?'], name: 'v12', match: false },
    { patterns: ['a.b'], name: 'axb', match: false },
    { patterns: ['(a|b)*'], name: 'a', match: false },
    { patterns: ['(a|b)*'], name: '(a|b)x', match: true },
    { patterns: ['repo://acme/{path}'], name: 'repo://acme/{path}', match: true },
    { patterns: ['repo://acme/*'], name: 'repo://acme/dir/file\nname', match: true },
    { patterns: ['x*', 'y?'], name: 'y1', match: true },
    { patterns: ['😀*'], name: '😀x', match: true },
    { patterns: ['?'], name: '😀', match: true },
    { patterns: ['??'], name: '😀', match: false },
    { patterns: ['*??'], name: '😀', match: false },
    { patterns: ['a*b*c'], name: 'a-b-b-c', match: true },
    { patterns: ['a*b*c'], name: 'a-b-b-d', match: false },
    { patterns: ['*a*a*a*a*b'], name: 'a'.repeat(5000), match: false },
    { patterns: ['**x'], name: 'yyx', match: true },
    { patterns: ['get_*', 'list'], name: 'list', match: true },
    { patterns: ['get_*', 'list'], name: 'get_', match: true },
    { patterns: ['get_*', 'list'], name: 'lists', match: false },
  ])('$patterns vs $name.length-char name -> $match', ({ patterns, name, match }) => {
    expect(compileGlobs(patterns)(name)).toBe(match);
  });

  it.each([
    ['', 'empty'],
    ['a'.repeat(513), 'longer'],
    ['a\u0000b', 'control'],
  ])('globProblem refuses %#', (pattern, word) => {
    expect(globProblem(pattern)).toContain(word);
  });
});
