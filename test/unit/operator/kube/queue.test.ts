import { describe, expect, it } from 'vitest';
import { WorkQueue } from '../../../../operator/src/kube/queue.ts';
import { ExponentialRateLimiter } from '../../../../operator/src/kube/rate-limiter.ts';

// A manual clock and timer list, so delays are asserted as values, not waited for.
function fakeTime() {
  let now = 0;
  const timers: { at: number; fn: () => void; cancelled: boolean }[] = [];
  return {
    now: () => now,
    schedule: (fn: () => void, ms: number) => {
      const t = { at: now + ms, fn, cancelled: false };
      timers.push(t);
      return () => {
        t.cancelled = true;
      };
    },
    advance(ms: number) {
      now += ms;
      for (const t of timers.filter((t) => !t.cancelled && t.at <= now)) {
        t.cancelled = true;
        t.fn();
      }
    },
    pending: () => timers.filter((t) => !t.cancelled).map((t) => t.at - now),
  };
}

function queue(time = fakeTime()) {
  return new WorkQueue({
    now: time.now,
    schedule: time.schedule,
    rateLimiter: new ExponentialRateLimiter(10, 1000),
  });
}

describe('WorkQueue', () => {
  it.each([
    { name: 'one key added three times is queued once', adds: ['a/x', 'a/x', 'a/x'], length: 1 },
    { name: 'different keys are all queued', adds: ['a/x', 'a/y', 'b/x'], length: 3 },
    { name: 'duplicates among others keep first position', adds: ['a/x', 'a/y', 'a/x'], length: 2 },
  ])('dedup: $name', ({ adds, length }) => {
    const q = queue();
    for (const key of adds) q.add(key);
    expect(q.length).toBe(length);
  });

  it('hands out keys in the order they were first added', async () => {
    const q = queue();
    for (const key of ['a/1', 'a/2', 'a/1', 'a/3']) q.add(key);
    expect([await q.get(), await q.get(), await q.get()]).toEqual(['a/1', 'a/2', 'a/3']);
  });

  it('never gives a key to a second worker while the first is processing it', async () => {
    const q = queue();
    q.add('a/x');
    const first = await q.get();
    q.add('a/x'); // an event arrives while a/x is being reconciled
    q.add('a/y');
    expect(await q.get()).toBe('a/y');
    expect(q.length).toBe(0);
    q.done(first as string);
    expect(q.length).toBe(1);
    expect(await q.get()).toBe('a/x');
  });

  it('a waiting worker receives a key as soon as it is added', async () => {
    const q = queue();
    const next = q.get();
    q.add('a/x');
    expect(await next).toBe('a/x');
  });

  it.each([
    { name: 'first failure waits the base delay', failures: 1, delay: 10 },
    { name: 'each further failure doubles it', failures: 3, delay: 40 },
    { name: 'the delay is capped', failures: 10, delay: 1000 },
  ])('backoff: $name', async ({ failures, delay }) => {
    const time = fakeTime();
    const q = queue(time);
    for (let i = 1; i < failures; i++) {
      q.addRateLimited('a/x');
      time.advance(10_000);
      q.done((await q.get()) as string);
    }
    q.addRateLimited('a/x');
    expect(time.pending()).toEqual([delay]);
    time.advance(delay - 1);
    expect(q.length).toBe(0);
    time.advance(1);
    expect(q.length).toBe(1);
  });

  it('forget resets the backoff of a key', () => {
    const time = fakeTime();
    const q = queue(time);
    q.addRateLimited('a/x');
    q.addRateLimited('a/x');
    expect(q.failures('a/x')).toBe(2);
    q.forget('a/x');
    expect(q.failures('a/x')).toBe(0);
    q.addRateLimited('a/x');
    expect(time.pending()).toContain(10);
  });

  it('a delayed add appears only after its delay, and the earliest deadline wins', () => {
    const time = fakeTime();
    const q = queue(time);
    q.addAfter('a/x', 500);
    q.addAfter('a/x', 100);
    q.addAfter('a/x', 900);
    time.advance(99);
    expect(q.length).toBe(0);
    time.advance(1);
    expect(q.length).toBe(1);
    time.advance(1000);
    expect(q.length).toBe(1);
  });

  it('shutdown wakes idle workers with undefined and waits for work in flight', async () => {
    const q = queue();
    q.add('a/x');
    const key = await q.get();
    const idle = q.get();
    let drained = false;
    const shut = q.shutDown().then(() => {
      drained = true;
    });
    expect(await idle).toBeUndefined();
    q.add('a/y');
    expect(q.length).toBe(0);
    await Promise.resolve();
    expect(drained).toBe(false);
    q.done(key as string);
    await shut;
    expect(drained).toBe(true);
  });
});
