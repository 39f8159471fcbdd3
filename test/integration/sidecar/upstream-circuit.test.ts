import { createServer } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SidecarConfig } from '../../../sidecar/src/contract/config.ts';
import { freePort } from '../../../sidecar/src/quickstart/everything.ts';
import type { RunningSidecar } from '../../../sidecar/src/server/sidecar.ts';
import { config, initializeBody, KEYS, messageOf, post, sidecarFor } from '../../support/harness.ts';

// A dead upstream: every caller gets a JSON-RPC error with its request id; after the configured
// connect failures in a row the circuit opens and the sidecar stops trying (no connection attempts reach
// the port), answering at once.

let sidecar: RunningSidecar;
let port: number;

beforeAll(async () => {
  port = await freePort();
  sidecar = await sidecarFor(
    config({
      upstream: {
        transport: 'streamable-http',
        url: `http://127.0.0.1:${port}/mcp`,
        circuitBreaker: { failures: 3, cooldownMs: 60_000 },
      } as SidecarConfig['upstream'],
    }),
  );
});
afterAll(() => sidecar?.close());

describe('a dead upstream', () => {
  it('gets each caller a JSON-RPC error with its id; an open circuit stops the connection attempts', async () => {
    for (let id = 1; id <= 3; id++) {
      const res = await post(sidecar.url, initializeBody(id), { 'x-api-key': KEYS.alice });
      expect(res.status).toBe(502);
      expect(messageOf(res.text)).toMatchObject({ jsonrpc: '2.0', id, error: { code: -32603 } });
    }
    // The port comes alive, but accepts only to count: the open circuit must not reach it.
    let connections = 0;
    const listener = createServer((s) => {
      connections++;
      s.destroy();
    });
    await new Promise<void>((r) => listener.listen(port, '127.0.0.1', r));
    try {
      const res = await post(sidecar.url, initializeBody(4), { 'x-api-key': KEYS.alice });
      expect(messageOf(res.text)).toMatchObject({ id: 4, error: { code: -32603 } });
      expect(connections).toBe(0);
    } finally {
      await new Promise((r) => listener.close(r));
    }
  });
});
