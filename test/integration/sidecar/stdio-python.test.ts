import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningSidecar } from '../../../sidecar/src/server/sidecar.ts';
import { config, KEYS, MCP_HEADERS, sidecarFor } from './support/harness.ts';
import { PYTHON_STATE_SERVER, pythonForStateServer } from './support/python-venv.ts';
import { connect, MARKER, marked, processes } from './support/stdio-fixture.ts';

// The stdio upstream with a server on the Python MCP SDK (`mcp`, in a venv made on first use):
// one process per caller, the cap, and every process gone when the sidecar closes.

describe('stdio upstream with a Python MCP server', () => {
  const marker = randomUUID();
  let sidecar: RunningSidecar;
  beforeAll(async () => {
    const python = await pythonForStateServer();
    sidecar = await sidecarFor(
      config({
        upstream: {
          transport: 'stdio',
          command: python,
          args: [PYTHON_STATE_SERVER],
          env: { [MARKER]: marker },
          processes: processes({ maxProcesses: 2 }),
          connectTimeoutMs: 5_000,
          requestTimeoutMs: 60_000,
        },
      }),
    );
  }, 300_000);
  afterAll(async () => {
    await sidecar?.close();
  });

  it('gives two callers two processes, refuses a third past maxProcesses, and stops them all at close', async () => {
    const a = await connect(sidecar.url);
    const b = await connect(sidecar.url);
    const stored = await a.call('remember', { value: 'alpha' });
    const other = await b.call('recall');
    expect(stored.remembered).toBe('alpha');
    expect(other.remembered).toBeNull();
    expect(other.pid).not.toBe(stored.pid);
    expect(marked(marker).sort()).toEqual([stored.pid, other.pid].sort());
    const third = await fetch(sidecar.url, {
      method: 'POST',
      headers: { ...MCP_HEADERS, 'x-api-key': KEYS.alice },
      body: JSON.stringify({
        jsonrpc: '2.0',
        id: 1,
        method: 'initialize',
        params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'c', version: '1' } },
      }),
    });
    expect(third.status).toBe(503);
    await sidecar.close();
    expect(marked(marker)).toEqual([]);
  });
});
