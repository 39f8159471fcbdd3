import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../../../sidecar/src/quickstart/everything.ts';
import type { RunningSidecar } from '../../../sidecar/src/server/sidecar.ts';
import { collectRecords, config, type Recorded, sidecarFor } from '../../support/harness.ts';

// Requests Node's HTTP parser or fastify's router refuse before the pipeline sees them: each is answered with a
// JSON-RPC error and recorded exactly once, with no byte of what the caller sent. Raw sockets,
// because no HTTP client sends such requests on purpose.

let sidecar: RunningSidecar;
let recorder: Recorded;

beforeAll(async () => {
  recorder = collectRecords();
  // Nothing reaches the upstream: the parser refuses first.
  sidecar = await sidecarFor(
    config({
      upstream: { transport: 'streamable-http', url: `http://127.0.0.1:${await freePort()}/mcp` },
      limits: { maxHeaderBytes: 4096, requestTimeoutMs: 200 },
    }),
    recorder,
  );
});

afterAll(async () => {
  await sidecar?.close();
});

/** Writes raw bytes and reads everything until the sidecar closes the connection. */
function exchangeRaw(bytes: string): Promise<{ text: string; port: number }> {
  const { hostname, port } = new URL(sidecar.url);
  return new Promise((resolve, reject) => {
    let local = 0;
    const socket = connect(Number(port), hostname, () => {
      local = socket.localPort as number;
      socket.write(bytes.replace('Host: x', `Host: ${hostname}:${port}`));
    });
    let text = '';
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => {
      text += chunk;
    });
    socket.on('error', () => {}); // the sidecar may reset after its answer
    socket.on('close', () => resolve({ text, port: local }));
    socket.on('timeout', () => reject(new Error('no answer')));
  });
}

const secret = 'caller-bytes-never-recorded';

describe('requests refused by the HTTP parser', () => {
  it.each([
    [
      'Content-Length beside Transfer-Encoding',
      `POST /mcp HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\nX-S: ${secret}\r\n\r\n0\r\n\r\n`,
      400,
      'INVALID_REQUEST',
    ],
    [
      'headers over limits.maxHeaderBytes',
      `POST /mcp HTTP/1.1\r\nHost: x\r\nX-S: ${secret}${'p'.repeat(8000)}\r\n\r\n`,
      431,
      'HEADERS_TOO_LARGE',
    ],
    [
      'headers not complete within limits.requestTimeoutMs',
      `POST /mcp HTTP/1.1\r\nHost: x\r\nX-S: ${secret}\r\n`,
      408,
      'REQUEST_TIMEOUT',
    ],
    [
      'a body not complete within limits.requestTimeoutMs',
      `POST /mcp HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{"${secret}`,
      408,
      'REQUEST_TIMEOUT',
    ],
    [
      'a path that does not decode',
      `GET /mcp%zz${secret} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`,
      400,
      'INVALID_REQUEST',
    ],
  ])('%s: answered with a JSON-RPC error and recorded once', async (_name, bytes, status, code) => {
    const { text, port } = await exchangeRaw(bytes);
    expect(text.startsWith(`HTTP/1.1 ${status} `)).toBe(true);
    expect(JSON.parse(text.slice(text.indexOf('\r\n\r\n') + 4))).toMatchObject({
      jsonrpc: '2.0',
      id: null,
      error: { code: -32600 },
    });
    const mine = recorder.records.filter((r) => r.source.port === port);
    expect(mine).toHaveLength(1);
    expect(mine[0]).toMatchObject({ method: 'http', outcome: 'failed', httpStatus: status, errorCode: code });
    expect(JSON.stringify(mine[0])).not.toContain(secret);
    expect(text).not.toContain(secret);
  });
});
