import type { ServerResponse } from 'node:http';
import type { Readable } from 'node:stream';
import type { UpstreamWait } from '../pipeline/upstream-wait.ts';
import { reencodeEvent, type SseEvent, SseSplitter } from '../transport/sse.ts';

// Moves an upstream reply body to the client. SSE is relayed event by event as it arrives (with
// backpressure), each event optionally rewritten; everything else is piped as is. The wait for the
// upstream's bytes is measured apart from the handling of each chunk (the sidecar's own time).

export type EventRewrite = (event: SseEvent) => string | undefined;

export function relaySse(
  body: Readable,
  res: ServerResponse,
  wait: UpstreamWait,
  rewrite: EventRewrite,
): Promise<void> {
  return new Promise((resolve) => {
    wait.start();
    const splitter = new SseSplitter();
    body.setEncoding('utf8');
    let ended = false;
    const done = () => {
      if (ended) return;
      ended = true;
      resolve();
    };
    const relayChunk = (chunk: string) => {
      let events: SseEvent[];
      try {
        events = splitter.push(chunk);
      } catch {
        body.destroy();
        res.destroy();
        return done();
      }
      let out = '';
      for (const ev of events) out += rewrite(ev) ?? reencodeEvent(ev);
      if (out === '') return;
      // Corked until the next tick, so an event and the end of the stream that follows it in the
      // same read go out in one write.
      res.cork();
      process.nextTick(() => res.uncork());
      if (!res.write(out)) {
        body.pause();
        res.once('drain', () => body.resume());
      }
    };
    body.on('data', (chunk: string) => {
      wait.stop();
      relayChunk(chunk);
      wait.start();
    });
    body.once('end', () => {
      wait.stop();
      // An event not ended by a blank line is incomplete: the SSE standard discards it, so must we.
      res.end();
      done();
    });
    tieEnds(body, res, done);
  });
}

/** Pass-through: the whole body counts as the upstream's time. */
export function pipeBody(body: Readable, res: ServerResponse, wait?: UpstreamWait): Promise<void> {
  return new Promise((resolve) => {
    wait?.start();
    body.pipe(res);
    const done = () => {
      wait?.stop();
      resolve();
    };
    body.once('end', done);
    tieEnds(body, res, done);
  });
}

/** A failed upstream body ends the client's response; a client that goes away stops the upstream read. */
function tieEnds(body: Readable, res: ServerResponse, done: () => void): void {
  body.once('error', () => {
    res.destroy();
    done();
  });
  res.once('close', () => {
    if (!body.destroyed) body.destroy();
    done();
  });
}
