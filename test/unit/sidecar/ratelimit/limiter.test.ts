import { describe, expect, it } from 'vitest';
import { TokenBuckets } from '../../../../sidecar/src/ratelimit/buckets.ts';
import { createRateLimiter, type RateLimitState } from '../../../../sidecar/src/ratelimit/limiter.ts';

// Token buckets and the limits built on them, with the clock passed in: burst then rate, the wait a
// refused call is told, which calls each kind of limit counts together, and that a refused call
// costs no limit a token.

describe('TokenBuckets', () => {
  it('allows the burst at once, then one call per 1/rate seconds, and says how long to wait', () => {
    const b = new TokenBuckets({ ratePerSecond: 2, burst: 3 });
    for (let i = 0; i < 3; i++) {
      expect(b.waitMs('k', 0)).toBe(0);
      b.take('k', 0);
    }
    expect(b.waitMs('k', 0)).toBe(500);
    expect(b.waitMs('k', 250)).toBe(250);
    expect(b.waitMs('k', 500)).toBe(0);
    b.take('k', 500);
    expect(b.waitMs('k', 500)).toBe(500);
    // never more than the burst, however long the quiet
    expect(b.waitMs('k', 3_600_000)).toBe(0);
  });

  it('keeps at most maxKeys buckets, dropping the least recently used', () => {
    const b = new TokenBuckets({ ratePerSecond: 1, burst: 1 }, 2);
    b.take('a', 0);
    b.take('b', 0);
    b.take('a', 0); // a used last
    b.take('c', 0);
    expect(b.size).toBe(2);
    expect(b.waitMs('a', 0)).toBeGreaterThan(0);
    expect(b.waitMs('b', 0)).toBe(0); // dropped: starts full again
  });
});

describe('createRateLimiter', () => {
  const limits = [
    { name: 'per-user', per: 'principal' as const, requestsPerSecond: 1, burst: 2 },
    { name: 'search', per: 'tool' as const, tools: ['search*'], requestsPerSecond: 1, burst: 3 },
  ];

  it('counts per principal across tools, and per tool across principals', () => {
    const l = createRateLimiter(limits, new Map());
    expect(l?.admit('alice', 'echo', 0)).toBeUndefined();
    expect(l?.admit('alice', 'search', 0)).toBeUndefined();
    expect(l?.admit('alice', 'echo', 0)).toEqual({ limit: 'per-user', retryAfterMs: 1000 });
    expect(l?.admit('bob', 'search', 0)).toBeUndefined();
    expect(l?.admit('carol', 'search', 0)).toBeUndefined();
    expect(l?.admit('dave', 'search', 0)).toEqual({ limit: 'search', retryAfterMs: 1000 });
  });

  it('a refused call takes no token from the limits that had one', () => {
    const l = createRateLimiter(limits, new Map());
    for (const who of ['a', 'b', 'c']) l?.admit(who, 'search', 0); // search bucket empty
    expect(l?.admit('erin', 'search', 0)).toMatchObject({ limit: 'search' });
    // erin's own bucket is untouched: two calls of another tool pass
    expect(l?.admit('erin', 'echo', 0)).toBeUndefined();
    expect(l?.admit('erin', 'echo', 0)).toBeUndefined();
  });

  it('keeps buckets across a reload that leaves a limit unchanged, and drops removed ones', () => {
    const state: RateLimitState = new Map();
    createRateLimiter(limits, state)?.admit('alice', 'echo', 0);
    createRateLimiter(limits, state)?.admit('alice', 'echo', 0);
    expect(createRateLimiter(limits, state)?.admit('alice', 'echo', 0)).toMatchObject({ limit: 'per-user' });
    expect(createRateLimiter([], state)).toBeUndefined();
    expect(state.size).toBe(0);
  });
});
