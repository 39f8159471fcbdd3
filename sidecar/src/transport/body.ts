import { isUtf8 } from 'node:buffer';
import type { IncomingMessage } from 'node:http';
import type { ProxyErrorCode } from './errors.ts';

// Reads a request body up to a byte limit and a time limit. A declared Content-Length over the limit
// is refused before a byte is read; a chunked body is cut off as soon as it passes the limit. Node's
// requestTimeout stops watching a request once it is handed to the route, so a body that trickles
// in is timed here. The body must be UTF-8: invalid sequences would become U+FFFD here but something
// else in another decoder.

export type BodyResult =
  | { readonly ok: true; readonly text: string }
  | { readonly ok: false; readonly code: ProxyErrorCode; readonly detail: string };

export function readBody(req: IncomingMessage, maxBytes: number, timeoutMs = 30_000): Promise<BodyResult> {
  const declared = Number(req.headers['content-length'] ?? Number.NaN);
  if (declared > maxBytes) {
    req.resume();
    return Promise.resolve({
      ok: false,
      code: 'BODY_TOO_LARGE',
      detail: `content-length ${declared} > ${maxBytes}`,
    });
  }
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let done = false;
    const timer = setTimeout(
      () =>
        finish({ ok: false, code: 'REQUEST_TIMEOUT', detail: `body not complete within ${timeoutMs} ms` }),
      timeoutMs,
    );
    const finish = (r: BodyResult) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      req.off('data', onData);
      resolve(r);
    };
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size > maxBytes) {
        req.resume(); // drain the rest so the 413 can be written
        finish({ ok: false, code: 'BODY_TOO_LARGE', detail: `body over ${maxBytes} bytes` });
        return;
      }
      chunks.push(chunk);
    };
    req.on('data', onData);
    req.once('end', () =>
      finish(decodeUtf8(chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks))),
    );
    req.once('error', (err) => finish({ ok: false, code: 'INVALID_REQUEST', detail: err.message }));
    // A client that goes away mid-body ends here rather than leaving the exchange waiting.
    req.once('close', () =>
      finish({ ok: false, code: 'INVALID_REQUEST', detail: 'client closed the request' }),
    );
  });
}

/** Strict UTF-8: invalid byte sequences and a byte order mark are refused, not replaced or skipped. */
export function decodeUtf8(bytes: Buffer): BodyResult {
  if (!isUtf8(bytes)) return { ok: false, code: 'PARSE_ERROR', detail: 'body is not valid UTF-8' };
  if (bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf) {
    return { ok: false, code: 'PARSE_ERROR', detail: 'body starts with a byte order mark' };
  }
  return { ok: true, text: bytes.toString('utf8') };
}
