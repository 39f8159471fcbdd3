import { describe, expect, it } from 'vitest';
import { formatEvent, parseEvent, SseSplitter } from '../../../../sidecar/src/transport/sse.ts';

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
