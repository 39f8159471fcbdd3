import { describe, expect, it } from 'vitest';
import { createTokenCache } from '../../../../sidecar/src/authn/token-cache.ts';
import { ANONYMOUS_PRINCIPAL, type Principal } from '../../../../sidecar/src/contract/principal.ts';

const p = (subject: string): Principal => ({ ...ANONYMOUS_PRINCIPAL, subject, method: 'oidc' });

function clock(startMs = 1_000_000_000_000) {
  let t = startMs;
  return { now: () => new Date(t), advance: (ms: number) => (t += ms), seconds: () => Math.floor(t / 1000) };
}

describe('createTokenCache', () => {
  it('returns a stored principal for the exact token only', () => {
    const c = clock();
    const cache = createTokenCache({ maxEntries: 10, maxAgeMs: 60_000, now: c.now });
    cache.set('a.b.c', p('alice'), c.seconds() + 300);
    expect(cache.get('a.b.c')?.subject).toBe('alice');
    expect(cache.get('a.b.C')).toBeUndefined();
    expect(cache.get('a.b.c ')).toBeUndefined();
  });

  it.each([
    { name: 'at the token exp', exp: 30, advance: 30_000 },
    { name: 'after maxAgeMs even when exp is later', exp: 3600, advance: 60_000 },
  ])('expires $name', ({ exp, advance }) => {
    const c = clock();
    const cache = createTokenCache({ maxEntries: 10, maxAgeMs: 60_000, now: c.now });
    cache.set('t', p('alice'), c.seconds() + exp);
    c.advance(advance - 1);
    expect(cache.get('t')).toBeDefined();
    c.advance(1);
    expect(cache.get('t')).toBeUndefined();
  });

  it('does not store tokens without exp or already expired', () => {
    const c = clock();
    const cache = createTokenCache({ maxEntries: 10, maxAgeMs: 60_000, now: c.now });
    cache.set('no-exp', p('a'), undefined);
    cache.set('expired', p('b'), c.seconds() - 1);
    expect(cache.size).toBe(0);
  });

  it('evicts the oldest entry when full', () => {
    const c = clock();
    const cache = createTokenCache({ maxEntries: 2, maxAgeMs: 60_000, now: c.now });
    for (const t of ['one', 'two', 'three']) cache.set(t, p(t), c.seconds() + 300);
    expect(cache.size).toBe(2);
    expect(cache.get('one')).toBeUndefined();
    expect(cache.get('three')?.subject).toBe('three');
  });

  it('maxEntries 0 disables it', () => {
    const c = clock();
    const cache = createTokenCache({ maxEntries: 0, maxAgeMs: 60_000, now: c.now });
    cache.set('t', p('a'), c.seconds() + 300);
    expect(cache.get('t')).toBeUndefined();
  });

  it('clear() forgets everything', () => {
    const c = clock();
    const cache = createTokenCache({ maxEntries: 10, maxAgeMs: 60_000, now: c.now });
    cache.set('t', p('a'), c.seconds() + 300);
    cache.clear();
    expect(cache.get('t')).toBeUndefined();
  });
});
