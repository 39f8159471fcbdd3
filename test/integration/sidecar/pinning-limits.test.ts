import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { memoryPinStore, PinBook } from '../../../sidecar/src/pinning/book.ts';
import { startPinWatcher } from '../../../sidecar/src/pinning/watch.ts';

// A server can show the sidecar's own pinning session a list page of any size; the watcher stops
// reading a reply past its byte bound, reports it, and judges nothing from it.

let pageTools = 10;
let upstream: Server;
let url: string;

beforeAll(async () => {
  upstream = createServer((req, res) => {
    let body = '';
    req.on('data', (c) => {
      body += c;
    });
    req.on('end', () => {
      if (req.method !== 'POST') return void res.writeHead(405).end();
      const m = JSON.parse(body) as { id?: number; method: string };
      if (m.id === undefined) return void res.writeHead(202).end();
      const result =
        m.method === 'initialize'
          ? {
              protocolVersion: '2025-06-18',
              capabilities: { tools: {} },
              serverInfo: { name: 'big', version: '1' },
            }
          : {
              tools: Array.from({ length: pageTools }, (_, i) => ({
                name: `t${i}`,
                description: 'x'.repeat(1000),
                inputSchema: { type: 'object' },
              })),
            };
      res
        .writeHead(200, { 'content-type': 'application/json' })
        .end(JSON.stringify({ jsonrpc: '2.0', id: m.id, result }));
    });
  });
  await new Promise<void>((r) => upstream.listen(0, '127.0.0.1', r));
  url = `http://127.0.0.1:${(upstream.address() as AddressInfo).port}/mcp`;
});

afterAll(() => {
  upstream?.close();
});

async function read(tools: number) {
  pageTools = tools;
  const book = new PinBook({ mode: 'TrustOnFirstUse', approved: new Map(), store: memoryPinStore() });
  await book.load();
  const errors: string[] = [];
  const watcher = startPinWatcher({
    url,
    headers: () => ({}),
    book,
    intervalMs: 3_600_000,
    maxPageBytes: 64 * 1024,
    onError: (err) => errors.push(err.message),
  });
  await watcher.refresh();
  await watcher.close();
  return { book, errors };
}

describe("the pinning session's reads", () => {
  it('judges a page under the byte bound', async () => {
    const { book, errors } = await read(10);
    expect(errors).toEqual([]);
    expect(book.list()).toHaveLength(10);
  });

  it('refuses a page over the byte bound, reported, judging nothing from it', async () => {
    const { book, errors } = await read(200); // ~200 KiB
    expect(errors.join()).toMatch(/over 65536 bytes/);
    expect(book.list()).toEqual([]);
  });
});
