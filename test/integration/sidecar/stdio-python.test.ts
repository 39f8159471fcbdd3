import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningSidecar } from '../../../sidecar/src/server/sidecar.ts';
import { config, KEYS, MCP_HEADERS, sidecarFor } from '../../support/harness.ts';
import { PYTHON_STATE_SERVER, pythonForStateServer } from '../../support/python-venv.ts';
import { expectIsolated, INITIALIZE, MARKER, marked, processes } from '../../support/stdio-fixture.ts';

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
    await expectIsolated(sidecar.url, marker);
    const third = await fetch(sidecar.url, {
      method: 'POST',
      headers: { ...MCP_HEADERS, 'x-api-key': KEYS.alice },
      body: INITIALIZE,
    });
    expect(third.status).toBe(503);
    await sidecar.close();
    expect(marked(marker)).toEqual([]);
  });
});
