import { describe, expect, it } from 'vitest';
import { createLineLog } from '../../../../sidecar/src/upstream/stderr-log.ts';

const collect = (opts: Parameters<typeof createLineLog>[1] = {}) => {
  const lines: [string, boolean][] = [];
  const log = createLineLog((line, truncated) => lines.push([line, truncated]), opts);
  return { log, lines };
};

describe('createLineLog', () => {
  it('passes on lines split across chunks, CRLF or LF, and a last line without newline', () => {
    const { log, lines } = collect();
    log.write(Buffer.from('one\r\ntw'));
    log.write(Buffer.from('o\nthree'));
    log.end();
    expect(lines).toEqual([
      ['one', false],
      ['two', false],
      ['three', false],
    ]);
  });

  it('cuts a long line at maxLineBytes and drops the rest of it', () => {
    const { log, lines } = collect({ maxLineBytes: 4 });
    log.write(Buffer.from('abcdefgh'));
    log.write(Buffer.from('ijk\nok\n'));
    expect(lines).toEqual([
      ['abcd', true],
      ['ok', false],
    ]);
  });

  it('passes at most maxLines a window and reports how many it dropped', () => {
    let now = 0;
    const { log, lines } = collect({ maxLines: 2, windowMs: 1000, now: () => now });
    log.write(Buffer.from('1\n2\n3\n4\n'));
    now = 1000;
    log.write(Buffer.from('5\n'));
    expect(lines.map(([l]) => l)).toEqual([
      '1',
      '2',
      '[2 stderr lines dropped: more than 2 in 1000 ms]',
      '5',
    ]);
  });
});
