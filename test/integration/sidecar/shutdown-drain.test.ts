import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type EverythingServer, startEverything } from '../../../sidecar/src/quickstart/everything.ts';
import { allow, collectRecords, config, KEYS, sidecarFor } from '../../support/harness.ts';

// Shutdown lets a call that was already admitted finish, and records it, before the sidecar closes
// its connections (Kubernetes sends SIGTERM to a pod with calls in flight on every rolling update).
// Against the real everything server, whose long-running tool takes as long as it is asked to.

let everything: EverythingServer;

beforeAll(async () => {
  everything = await startEverything('streamableHttp');
});

afterAll(async () => {
  await everything?.close();
});

describe('sidecar shutdown', () => {
  it('drains a call in flight: it completes, is recorded, and only then does close() resolve', async () => {
    const recorder = collectRecords();
    const sidecar = await sidecarFor(
      config({
        upstream: { transport: 'streamable-http', url: everything.url },
        rules: [allow('all-tools', { tools: ['*'] })],
      }),
      recorder,
    );
    const client = new Client({ name: 'drain-test', version: '1' });
    await client.connect(
      new StreamableHTTPClientTransport(new URL(sidecar.url), {
        requestInit: { headers: { authorization: `Bearer ${KEYS.alice}` } },
      }),
    );
    let progressed!: () => void;
    const started = new Promise<void>((r) => (progressed = r));
    const call = client.callTool(
      { name: 'trigger-long-running-operation', arguments: { duration: 1.5, steps: 3 } },
      undefined,
      { onprogress: () => progressed(), timeout: 30_000 },
    );
    await started; // the call is in flight
    let closed = false;
    const closing = sidecar.close().then(() => (closed = true));
    const result = await call;
    expect(result.isError ?? false).toBe(false);
    expect(JSON.stringify(result.content)).toContain('completed');
    await closing;
    expect(closed).toBe(true);
    // One record per exchange, written when its answer ended: the whole call, answered.
    const recorded = recorder.records.find((r) => r.method === 'tools/call');
    expect(recorded).toMatchObject({ outcome: 'allowed', result: { isError: false } });
    await client.close().catch(() => undefined);
  });
});
