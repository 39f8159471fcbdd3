import { createServer, type IncomingMessage, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type BodyResult, readBody } from '../../../../sidecar/src/transport/body.ts';

// readBody against real sockets: a body that arrives with its headers, one that arrives in pieces,
// the limits, and a client that goes away.

const LIMIT = 64;
let server: Server;
let port: number;
const results: Promise<BodyResult>[] = [];

beforeAll(async () => {
  server = createServer((req: IncomingMessage, res) => {
    const result = readBody(req, LIMIT);
    results.push(result);
    void result.then((r) => res.writeHead(r.ok ? 200 : 413).end());
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  port = (server.address() as AddressInfo).port;
});
afterAll(() => new Promise<void>((r) => server.close(() => r())));

/** Sends `parts` with `gapMs` between them (chunked unless a content-length is given). */
function send(
  parts: (string | Buffer)[],
  opts: { gapMs?: number; contentLength?: number; abort?: boolean } = {},
) {
  const n = results.length;
  const req = request({
    host: '127.0.0.1',
    port,
    agent: false,
    method: 'POST',
    headers: opts.contentLength === undefined ? {} : { 'content-length': opts.contentLength },
  });
  req.on('error', () => {});
  req.on('response', (res) => res.resume());
  void (async () => {
    for (const [i, p] of parts.entries()) {
      if (i > 0 && opts.gapMs) await new Promise((r) => setTimeout(r, opts.gapMs));
      req.write(p);
    }
    if (opts.abort) {
      await new Promise((r) => setTimeout(r, 20));
      req.destroy();
    } else req.end();
  })();
  return (async () => {
    while (results.length <= n) await new Promise((r) => setTimeout(r, 5));
    return { result: await (results[n] as Promise<BodyResult>) };
  })();
}

describe('readBody', () => {
  it('reads a body that came with its headers', async () => {
    const body = '{"jsonrpc":"2.0","id":1,"method":"ping","params":{"é":"€"}}';
    const { result } = await send([body], { contentLength: Buffer.byteLength(body) });
    expect(result).toEqual({ ok: true, text: body });
  });

  it('reads a body that arrives in pieces, a character split between them', async () => {
    const euro = Buffer.from('€');
    const { result } = await send(
      ['{"a":"', euro.subarray(0, 1), Buffer.concat([euro.subarray(1), Buffer.from('"}')])],
      { gapMs: 20 },
    );
    expect(result).toEqual({ ok: true, text: '{"a":"€"}' });
  });

  it.each([
    ['an invalid byte', Buffer.from([0x7b, 0x22, 0x61, 0x22, 0x3a, 0x22, 0xff, 0x22, 0x7d])],
    [
      'a truncated sequence',
      Buffer.concat([Buffer.from('{"a":"'), Buffer.from('€').subarray(0, 2), Buffer.from('"}')]),
    ],
    [
      'an encoded surrogate (CESU-8)',
      Buffer.concat([Buffer.from('{"a":"'), Buffer.from([0xed, 0xa0, 0x80]), Buffer.from('"}')]),
    ],
    [
      'an overlong encoding of "/"',
      Buffer.concat([Buffer.from('{"a":"'), Buffer.from([0xc0, 0xaf]), Buffer.from('"}')]),
    ],
  ])('refuses a body that is not UTF-8: %s (no U+FFFD stand-in)', async (_name, bytes) => {
    const { result } = await send([bytes]);
    expect(result).toEqual({ ok: false, code: 'PARSE_ERROR', detail: 'body is not valid UTF-8' });
  });

  it('refuses a byte order mark', async () => {
    const { result } = await send([Buffer.from('\ufeff{"jsonrpc":"2.0","id":1,"method":"ping"}')]);
    expect(result).toEqual({ ok: false, code: 'PARSE_ERROR', detail: 'body starts with a byte order mark' });
  });

  it('refuses a declared length over the limit before reading', async () => {
    const { result } = await send(['x'], { contentLength: LIMIT + 1 });
    expect(result).toMatchObject({ ok: false, code: 'BODY_TOO_LARGE' });
  });

  it('refuses a body over the limit whether it came whole or in pieces', async () => {
    const whole = await send(['x'.repeat(LIMIT + 1)]);
    expect(whole.result).toMatchObject({ ok: false, code: 'BODY_TOO_LARGE' });
    const pieces = await send(['x'.repeat(40), 'x'.repeat(40)], { gapMs: 20 });
    expect(pieces.result).toMatchObject({ ok: false, code: 'BODY_TOO_LARGE' });
  });

  it('ends with an error when the client goes away mid-body', async () => {
    const { result } = await send(['{"a":'], { abort: true });
    expect(result).toMatchObject({ ok: false, code: 'INVALID_REQUEST' });
  });
});
