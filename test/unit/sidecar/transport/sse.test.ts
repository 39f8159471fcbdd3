import { describe, expect, it } from 'vitest';
import {
  formatEvent,
  parseEvent,
  reencodeEvent,
  SseSplitter,
} from '../../../../sidecar/src/transport/sse.ts';

describe('SseSplitter', () => {
  it.each([
    ['LF', 'event: message\ndata: {"a":1}\n\n', 1],
    ['CRLF', 'event: message\r\ndata: {"a":1}\r\n\r\n', 1],
    ['CR (the last event waits for the next byte)', 'data: x\r\rdata: y\r\r', 1],
    ['two events', 'data: 1\n\ndata: 2\n\n', 2],
    ['unterminated', 'data: 1\n', 0],
  ])('splits %s framing', (_name, text, count) => {
    expect(new SseSplitter().push(text)).toHaveLength(count);
  });

  it('completes an event split across chunks at any byte', () => {
    const text = 'id: 7\nevent: message\ndata: {"jsonrpc":"2.0"}\n\n';
    for (let cut = 1; cut < text.length; cut++) {
      const s = new SseSplitter();
      const events = [...s.push(text.slice(0, cut)), ...s.push(text.slice(cut))];
      expect(events.map((e) => e.raw)).toEqual([text]);
    }
  });

  it('refuses an event that outgrows the bound', () => {
    const s = new SseSplitter(10);
    expect(() => s.push('data: 0123456789abcdef')).toThrow();
  });
});

describe('parseEvent / formatEvent', () => {
  it('reads fields, joins multi-line data and ignores comments', () => {
    expect(parseEvent(': hi\nevent: message\nid: 3\ndata: a\ndata: b\n\n')).toMatchObject({
      event: 'message',
      id: '3',
      data: 'a\nb',
    });
  });
  it('round-trips', () => {
    const ev = parseEvent(formatEvent({ event: 'endpoint', id: '1', data: 'line1\nline2' }));
    expect(ev).toMatchObject({ event: 'endpoint', id: '1', data: 'line1\nline2' });
  });
});

describe('events as passed on', () => {
  it('ignores a byte order mark before the first event, so its first field keeps its name', () => {
    const s = new SseSplitter();
    const [ev] = [...s.push('\uFEFF'), ...s.push('data: {"a":1}\n\n')];
    expect(ev?.data).toBe('{"a":1}');
    expect(new SseSplitter().push('\uFEFFdata: x\n\n')[0]?.data).toBe('x');
  });

  it('writes every event anew with LF line ends, so no parser splits it differently', () => {
    // A lone CR ends the line for the SSE standard, not for a parser that splits on LF only.
    const [ev] = new SseSplitter().push('data:\r{"jsonrpc":"2.0","id":1,"result":{}}\n\n');
    expect(ev?.data).toBe('');
    expect(reencodeEvent(ev as never)).toBe(':\n\n');
    const [full] = new SseSplitter().push(
      'id: 4\r\nevent: message\r\nretry: 10\r\ndata: a\r\ndata: b\r\n\r\n',
    );
    expect(reencodeEvent(full as never)).toBe('event: message\nid: 4\nretry: 10\ndata: a\ndata: b\n\n');
  });
});
