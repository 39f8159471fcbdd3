import { EventEmitter, once } from 'node:events';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ProxyError } from '../../../sidecar/src/transport/errors.ts';
import { createUpstreamClient, type UpstreamClient } from '../../../sidecar/src/upstream/http.ts';

// The sidecar's upstream client (an undici dispatch handler, upstream/reply.ts) against a real HTTP
// server: a JSON reply read whole, a reply over the limit cut off, an SSE reply streamed as it comes,
// a body that fails half-way, a caller that gives up, a server that never answers.

type Route = (req: IncomingMessage, res: ServerResponse) => void;
const routes = new Map<string, Route>();
const closed: string[] = [];
let server: Server;
let client: UpstreamClient;

const euro = Buffer.from('€');

beforeAll(async () => {
  server = createServer(async (req, res) => {
    for await (const _ of req);
    res.once('close', () => closed.push(req.url ?? ''));
    routes.get(req.url ?? '')?.(req, res);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  client = createUpstreamClient({
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/mcp`,
    connectTimeoutMs: 1000,
    requestTimeoutMs: 500,
    breaker: { failures: 100, cooldownMs: 1000 },
  });
});

afterAll(async () => {
  server.closeAllConnections();
  server.close();
  await client.close();
});

const post = (path: string, signal?: EventEmitter) =>
  client.request({
    method: 'POST',
    path,
    headers: { 'content-type': 'application/json' },
    body: '{}',
    ...(signal ? { signal } : {}),
  });

describe('the upstream client', () => {
  it('reads a JSON reply whole, multi-byte characters split between chunks included', async () => {
    routes.set('/json', (_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json', 'mcp-session-id': 's1' });
      res.write('{"a":"');
      res.write(euro.subarray(0, 1));
      setTimeout(() => res.end(Buffer.concat([euro.subarray(1), Buffer.from('"}')])), 20);
    });
    const reply = await post('/json');
    expect(reply.statusCode).toBe(200);
    expect(reply.headers['mcp-session-id']).toBe('s1');
    expect(await reply.text(1024)).toBe('{"a":"€"}');
  });

  it('gives up on a reply over the limit and aborts the call', async () => {
    routes.set('/big', (_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.write('x'.repeat(600));
      setTimeout(() => res.write('y'.repeat(600)), 20);
    });
    const reply = await post('/big');
    expect(await reply.text(1000)).toBeUndefined();
    await expect.poll(() => closed.includes('/big')).toBe(true);
  });

  it('streams an SSE reply event by event, before the upstream ends it', async () => {
    let finish: (() => void) | undefined;
    routes.set('/sse', (_req, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.write('data: one\n\n');
      finish = () => res.end('data: two\n\n');
    });
    const reply = await post('/sse');
    reply.body.setEncoding('utf8');
    const [first] = (await once(reply.body, 'data')) as [string];
    expect(first).toBe('data: one\n\n');
    finish?.();
    let rest = '';
    for await (const chunk of reply.body) rest += chunk;
    expect(rest).toBe('data: two\n\n');
  });

  it('fails the read when the body breaks off half-way', async () => {
    routes.set('/reset', (_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': '100' });
      res.write('{"partial":');
      setTimeout(() => res.destroy(), 20);
    });
    const reply = await post('/reset');
    await expect(reply.text(1024)).rejects.toThrow();
  });

  it('stops the upstream call when the caller gives up before the reply', async () => {
    routes.set('/slow', () => {});
    const signal = new EventEmitter();
    const call = post('/slow', signal);
    setTimeout(() => signal.emit('abort'), 50);
    await expect(call).rejects.toBeInstanceOf(ProxyError);
    await expect.poll(() => closed.includes('/slow')).toBe(true);
  });

  it('answers UPSTREAM_TIMEOUT when no reply comes in time', async () => {
    routes.set('/silent', () => {});
    await expect(post('/silent')).rejects.toMatchObject({ code: 'UPSTREAM_TIMEOUT' });
  });

  it('pauses the upstream while nobody reads a long reply', async () => {
    // 128 MiB offered: far more than the kernel's socket buffers on both sides can hold.
    const chunk = Buffer.alloc(64 * 1024, 'x');
    const total = 2048;
    let sent = 0;
    routes.set('/flood', (_req, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      const pump = () => {
        while (sent < total) {
          sent++;
          if (!res.write(chunk)) {
            res.once('drain', pump);
            return;
          }
        }
        res.end();
      };
      pump();
    });
    const reply = await post('/flood');
    // Unread, the client stops taking bytes past its threshold: the server's writes stall.
    let last = -1;
    await expect
      .poll(
        async () => {
          const before = sent;
          await new Promise((r) => setTimeout(r, 300));
          last = sent;
          return sent === before;
        },
        { timeout: 10_000 },
      )
      .toBe(true);
    expect(last).toBeLessThan(total / 2);
    reply.body.destroy();
    await expect.poll(() => closed.includes('/flood')).toBe(true);
  });

  it('destroying the stream of a reply the caller no longer wants aborts the call', async () => {
    routes.set('/endless', (_req, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.write('data: tick\n\n');
    });
    const reply = await post('/endless');
    await once(reply.body, 'data');
    reply.body.destroy();
    await expect.poll(() => closed.includes('/endless')).toBe(true);
  });
});
