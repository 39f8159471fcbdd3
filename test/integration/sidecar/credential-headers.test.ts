import { request } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { toAuditInput } from '../../../sidecar/src/audit/recorder.ts';
import type { RunningSidecar } from '../../../sidecar/src/server/sidecar.ts';
import { type EchoUpstream, startEchoUpstream } from '../../support/echo-upstream.ts';
import {
  collectRecords,
  config,
  initializeBody,
  KEYS,
  type Recorded,
  sidecarFor,
} from '../../support/harness.ts';

// A credential header sent twice is refused (400, audited), not resolved by whichever copy Node keeps;
// and the audit reason of a refusal names its code once and no part of the credential.

let upstream: EchoUpstream;
let sidecar: RunningSidecar;
let recorder: Recorded;

beforeAll(async () => {
  upstream = await startEchoUpstream();
  recorder = collectRecords();
  sidecar = await sidecarFor(
    config({ upstream: { transport: 'streamable-http', url: upstream.url } }),
    recorder,
  );
});
afterAll(async () => {
  await sidecar?.close();
  await upstream?.close();
});

/** POSTs with header values given as arrays, which node:http sends as repeated header lines. */
function postRaw(headers: Record<string, string | string[]>): Promise<number> {
  const u = new URL(sidecar.url);
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: u.hostname,
        port: u.port,
        path: u.pathname,
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          accept: 'application/json, text/event-stream',
          ...headers,
        },
      },
      (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      },
    );
    req.on('error', reject);
    req.end(initializeBody());
  });
}

describe('repeated credential headers', () => {
  it.each([
    [
      'Authorization: a valid key, then a tampered one',
      { authorization: [`Bearer ${KEYS.alice}`, 'Bearer tampered'] },
    ],
    ['X-API-Key: a valid key, then a tampered one', { 'x-api-key': [KEYS.alice, 'tampered'] }],
  ])('%s -> 400, recorded, nothing forwarded', async (_name, headers) => {
    const before = upstream.seen.length;
    expect(await postRaw(headers)).toBe(400);
    expect(upstream.seen.length).toBe(before);
    expect(recorder.records.at(-1)).toMatchObject({
      outcome: 'unauthenticated',
      errorCode: 'repeated_credentials',
    });
  });

  it('one of each is still fine', async () => {
    expect(await postRaw({ authorization: `Bearer ${KEYS.alice}` })).toBe(200);
  });
});

describe('the audit reason of a refused credential', () => {
  it('names the code once and none of a key sent after a tab', async () => {
    const secret = 'pc_live_0123456789abcdef';
    expect(await postRaw({ authorization: `Bearer\t${secret}` })).toBe(401);
    const input = toAuditInput(recorder.records.at(-1) as never, { name: 'test-server' });
    expect(input.reason).toBe('invalid_api_key: API key (from bearer) matches no configured key');
    expect(input.reason).not.toContain(secret.slice(0, 4));
  });
});
