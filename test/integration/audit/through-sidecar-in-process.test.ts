import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningSidecar } from '../../../sidecar/src/server/sidecar.ts';
import { type EchoUpstream, startEchoUpstream } from '../../support/echo-upstream.ts';
import { allow, config, initializeBody, KEYS, post, sidecarFor } from '../../support/harness.ts';

// Audit is the frame around the pipeline: through the real proxy and a real file sink, every
// message yields exactly one event, including 401s, policy denials and malformed input.

let upstream: EchoUpstream;
let sidecar: RunningSidecar;
let dir: string;

beforeAll(async () => {
  upstream = await startEchoUpstream();
  dir = await mkdtemp(join(tmpdir(), 'portcullis-audit-'));
  sidecar = await sidecarFor(
    config({
      upstream: { transport: 'streamable-http', url: upstream.url },
      rules: [allow('alice-alpha', { subjects: [{ user: 'alice' }], tools: ['alpha'] })],
      audit: { sinks: [{ type: 'file', path: join(dir, 'audit.ndjson') }] },
    }),
    undefined,
    { audit: 'config' },
  );
});

afterAll(async () => {
  await sidecar?.close();
  await upstream?.close();
  await rm(dir, { recursive: true, force: true });
});

describe('audit through the proxy', () => {
  it('writes exactly one event per message, whatever stage answered it', async () => {
    const init = await post(sidecar.url, initializeBody(1, '2025-03-26'), { 'x-api-key': KEYS.alice });
    const h = { 'x-api-key': KEYS.alice, 'mcp-session-id': init.headers.get('mcp-session-id') as string };
    const call = (id: number, name: string) =>
      JSON.stringify({ jsonrpc: '2.0', id, method: 'tools/call', params: { name, arguments: {} } });
    await post(sidecar.url, JSON.stringify({ jsonrpc: '2.0', method: 'notifications/initialized' }), h);
    await post(sidecar.url, call(2, 'alpha'), h); // allowed
    await post(sidecar.url, call(3, 'beta'), h); // denied by default
    await post(sidecar.url, call(4, 'alpha'), {}); // unauthenticated
    await post(sidecar.url, call(5, 'alpha'), { 'x-api-key': 'wrong-key' }); // unauthenticated
    await post(sidecar.url, '{not json', h); // malformed
    await sidecar.close(); // flushes the sink

    const lines = (await readFile(join(dir, 'audit.ndjson'), 'utf8')).trim().split('\n');
    const events = lines.map(
      (l) => JSON.parse(l) as { seq: number; outcome: string; method: string; jsonrpcId?: unknown },
    );
    expect(events.map((e) => [e.method, e.jsonrpcId ?? null, e.outcome])).toEqual([
      ['initialize', 1, 'allowed'],
      ['notifications/initialized', null, 'allowed'],
      ['tools/call', 2, 'allowed'],
      ['tools/call', 3, 'denied'],
      ['tools/call', 4, 'unauthenticated'],
      ['tools/call', 5, 'unauthenticated'],
      ['http', null, 'failed'],
    ]);
    expect(events.map((e) => e.seq)).toEqual([1, 2, 3, 4, 5, 6, 7]);
  });
});
