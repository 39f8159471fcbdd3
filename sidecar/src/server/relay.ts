import type { ServerResponse } from 'node:http';
import type { Readable } from 'node:stream';
import { type SseEvent, SseSplitter } from '../transport/sse.ts';

// Moves an upstream reply body to the client. SSE is relayed event by event as it arrives (with
// backpressure), each event optionally rewritten; everything else is piped as is.

export type EventRewrite = (event: SseEvent) => string | undefined;

export function relaySse(body: Readable, res: ServerResponse, rewrite: EventRewrite): Promise<void> {
  return new Promise((resolve) => {
    const splitter = new SseSplitter();
    body.setEncoding('utf8');
    let ended = false;
    const done = () => {
      if (ended) return;
      ended = true;
      resolve();
    };
    body.on('data', (chunk: string) => {
      let events: SseEvent[];
      try {
        events = splitter.push(chunk);
      } catch {
        body.destroy();
        res.destroy();
        return done();
      }
      let out = '';
      for (const ev of events) out += rewrite(ev) ?? ev.raw;
      if (out === '') return;
      // Corked until the next tick, so an event and the end of the stream that follows it in the
      // same read go out in one write.
      res.cork();
      process.nextTick(() => res.uncork());
      if (!res.write(out)) {
        body.pause();
        res.once('drain', () => body.resume());
      }
    });
    body.once('end', () => {
      res.end(splitter.rest());
      done();
    });
    body.once('error', () => {
      res.destroy();
      done();
    });
    res.once('close', () => {
      // the client went away: stop reading from the upstream
      if (!body.destroyed) body.destroy();
      done();
    });
  });
}

export function pipeBody(body: Readable, res: ServerResponse): Promise<void> {
  return new Promise((resolve) => {
    body.pipe(res);
    const done = () => resolve();
    body.once('end', done);
    body.once('error', () => {
      res.destroy();
      done();
    });
    res.once('close', () => {
      if (!body.destroyed) body.destroy();
      done();
    });
  });
}

export async function readAll(body: Readable, maxBytes: number): Promise<string | undefined> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of body as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > maxBytes) {
      body.destroy();
      return undefined;
    }
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString('utf8');
}
