import { describe, expect, it } from 'vitest';
import { circuitBreaker } from '../../../../../sidecar/src/upstream/circuit-breaker.ts';
import { tokenCache } from '../../../../../sidecar/src/upstream/credentials/token-cache.ts';
import { tokenEndpoint } from '../../../../../sidecar/src/upstream/credentials/token-endpoint.ts';

describe('circuitBreaker', () => {
  it('opens after the configured consecutive failures, admits one trial after the cooldown', () => {
    let t = 0;
    const b = circuitBreaker(2, 1000, () => t);
    b.failure();
    expect(b.tryAcquire()).toBe(true);
    b.failure();
    expect(b.state()).toBe('open');
    expect(b.tryAcquire()).toBe(false);
    t = 1000;
    expect(b.tryAcquire()).toBe(true);
    expect(b.tryAcquire()).toBe(false); // one trial at a time
    b.failure(); // the trial failed: open again for a full cooldown
    t = 1500;
    expect(b.tryAcquire()).toBe(false);
    t = 2000;
    expect(b.tryAcquire()).toBe(true);
    b.success();
    expect(b.state()).toBe('closed');
  });
});

describe('tokenCache', () => {
  it('shares one fetch between concurrent misses, serves hits until refreshAt, then fetches again', async () => {
    let t = 0;
    let fetches = 0;
    const cache = tokenCache(10, () => t);
    const fetch = async () => ({ token: `t${++fetches}`, refreshAt: t + 100 });
    const [a, b] = await Promise.all([cache.get('k', fetch), cache.get('k', fetch)]);
    expect([a.token, b.token, fetches]).toEqual(['t1', 't1', 1]);
    expect(await cache.get('k', fetch)).toEqual({ token: 't1', hit: true });
    t = 100;
    expect(await cache.get('k', fetch)).toEqual({ token: 't2', hit: false });
  });

  it('holds at most maxEntries, dropping the least recently used', async () => {
    const cache = tokenCache(2, () => 0);
    const f = (token: string) => async () => ({ token, refreshAt: 1 });
    await cache.get('a', f('a'));
    await cache.get('b', f('b'));
    await cache.get('a', f('x')); // a is now the most recent
    await cache.get('c', f('c'));
    expect(cache.size).toBe(2);
    expect((await cache.get('b', f('b2'))).hit).toBe(false);
    expect((await cache.get('c', f('c2'))).hit).toBe(true);
  });

  it('does not keep a token that is already due (no expires_in)', async () => {
    const cache = tokenCache(2, () => 5);
    await cache.get('a', async () => ({ token: 'a', refreshAt: 0 }));
    expect(cache.size).toBe(0);
  });
});

describe('tokenEndpoint', () => {
  const resilience = {
    timeoutMs: 1000,
    retries: 2,
    backoffMs: 1,
    breakerFailures: 2,
    breakerCooldownMs: 60_000,
  };
  const config = { tokenEndpoint: 'http://idp.test/token', clientId: 'gw', resilience };
  const json = (status: number, body: unknown) =>
    new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json' } });

  it('retries a 5xx with backoff, then succeeds', async () => {
    let calls = 0;
    const delays: number[] = [];
    const ep = tokenEndpoint(config, {
      onError: () => {},
      sleep: async (ms) => void delays.push(ms),
      fetch: (async () =>
        ++calls < 3
          ? json(503, {})
          : json(200, { access_token: 'at', token_type: 'Bearer', expires_in: 60 })) as typeof fetch,
    });
    expect(await ep.request('client_credentials', {})).toEqual({ token: 'at', expiresIn: 60 });
    expect(calls).toBe(3);
    expect(delays).toEqual([1, 2]);
  });

  it('does not retry an OAuth error (invalid_grant is final) and keeps the circuit closed', async () => {
    let calls = 0;
    const ep = tokenEndpoint(config, {
      onError: () => {},
      sleep: async () => {},
      fetch: (async () => {
        calls++;
        return json(400, { error: 'invalid_grant' });
      }) as typeof fetch,
    });
    for (let i = 0; i < 3; i++)
      await expect(ep.request('client_credentials', {})).rejects.toMatchObject({ code: 'REFUSED' });
    expect(calls).toBe(3);
  });

  it("a refusal of the gateway's own client is not the caller's: unavailable, not refused", async () => {
    const ep = tokenEndpoint(config, {
      onError: () => {},
      sleep: async () => {},
      fetch: (async () => json(401, { error: 'invalid_client' })) as typeof fetch,
    });
    await expect(ep.request('client_credentials', {})).rejects.toMatchObject({ code: 'UNAVAILABLE' });
  });

  it('opens the circuit after consecutive failures: later calls fail without a request', async () => {
    let calls = 0;
    const ep = tokenEndpoint(config, {
      onError: () => {},
      sleep: async () => {},
      fetch: (async () => {
        calls++;
        throw new TypeError('fetch failed', { cause: { code: 'ECONNREFUSED' } });
      }) as typeof fetch,
    });
    await expect(ep.request('client_credentials', {})).rejects.toMatchObject({ code: 'UNAVAILABLE' });
    await expect(ep.request('client_credentials', {})).rejects.toMatchObject({ code: 'UNAVAILABLE' });
    expect(calls).toBe(6); // two calls, each tried three times
    await expect(ep.request('client_credentials', {})).rejects.toThrow(/circuit open/);
    expect(calls).toBe(6);
  });
});

describe('circuitBreaker cancel', () => {
  it('a cancelled trial neither closes nor blocks the circuit', () => {
    let t = 0;
    const b = circuitBreaker(1, 100, () => t);
    b.failure();
    t = 100;
    expect(b.tryAcquire()).toBe(true);
    b.cancel();
    expect(b.state()).toBe('half-open');
    expect(b.tryAcquire()).toBe(true);
  });
});
