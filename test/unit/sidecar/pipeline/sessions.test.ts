import { describe, expect, it } from 'vitest';
import { SessionBindings } from '../../../../sidecar/src/pipeline/sessions.ts';

describe('SessionBindings', () => {
  it('knows the owner, refuses others, forgets removed sessions', () => {
    const s = new SessionBindings();
    s.bind('s1', 'alice');
    expect([s.check('s1', 'alice'), s.check('s1', 'mallory'), s.check('s2', 'alice')]).toEqual([
      'owner',
      'foreign',
      'unknown',
    ]);
    s.remove('s1');
    expect(s.check('s1', 'alice')).toBe('unknown');
  });

  it('expires idle sessions', () => {
    let now = 0;
    const s = new SessionBindings({ idleMs: 100, now: () => now });
    s.bind('s1', 'alice');
    now = 50;
    expect(s.check('s1', 'alice')).toBe('owner');
    now = 151;
    expect(s.check('s1', 'alice')).toBe('unknown');
  });

  it('reports the sessions it forgets by expiry or eviction, not those removed', () => {
    let now = 0;
    const forgotten: string[] = [];
    const s = new SessionBindings({
      idleMs: 100,
      maxSessions: 3,
      now: () => now,
      onForget: (id) => forgotten.push(id),
    });
    s.bind('removed', 'a');
    s.remove('removed');
    s.bind('expired', 'a');
    now = 101;
    expect(s.check('expired', 'a')).toBe('unknown');
    s.bind('old', 'a');
    s.bind('kept1', 'a');
    s.bind('kept2', 'a');
    s.bind('new', 'a');
    expect(forgotten).toEqual(['expired', 'old']);
  });

  it('stays bounded', () => {
    const s = new SessionBindings({ maxSessions: 10 });
    for (let i = 0; i < 100; i++) s.bind(`s${i}`, 'a');
    expect(s.size).toBeLessThanOrEqual(10);
    expect(s.check('s99', 'a')).toBe('owner');
  });
});

describe('SessionBindings reports its size', () => {
  const tracked = (opts: { idleMs?: number; maxSessions?: number } = {}) => {
    const clock = { now: 0 };
    const sizes: number[] = [];
    const s = new SessionBindings({ ...opts, now: () => clock.now, onSizeChange: (n) => sizes.push(n) });
    return { s, clock, sizes };
  };

  it.each([
    {
      name: 'bind counts new sessions only, not a re-bind',
      run: ({ s }: ReturnType<typeof tracked>) => {
        s.bind('a', 'alice');
        s.bind('b', 'bob');
        s.bind('a', 'alice');
      },
      want: [1, 2],
    },
    {
      name: 'remove counts down once, not for unknown ids',
      run: ({ s }: ReturnType<typeof tracked>) => {
        s.bind('a', 'alice');
        s.remove('a');
        s.remove('a');
        s.remove('never');
      },
      want: [1, 0],
    },
    {
      name: 'an idle session found by check expires',
      run: ({ s, clock }: ReturnType<typeof tracked>) => {
        s.bind('a', 'alice');
        clock.now = 101;
        s.check('a', 'alice');
      },
      opts: { idleMs: 100 },
      want: [1, 0],
    },
    {
      name: 'sweep expires idle sessions without a request',
      run: ({ s, clock }: ReturnType<typeof tracked>) => {
        s.bind('a', 'alice');
        clock.now = 60;
        s.bind('b', 'bob');
        clock.now = 101;
        s.sweep();
        s.sweep();
      },
      opts: { idleMs: 100 },
      want: [1, 2, 1],
    },
    {
      name: 'eviction at the cap is reported with the new count',
      run: ({ s }: ReturnType<typeof tracked>) => {
        for (let i = 0; i < 21; i++) s.bind(`s${i}`, 'a');
      },
      opts: { maxSessions: 20 },
      // the 21st drops the oldest tenth (2) and adds itself
      want: [...Array.from({ length: 20 }, (_, i) => i + 1), 19],
    },
  ])('$name', ({ run, opts, want }) => {
    const t = tracked(opts);
    run(t);
    expect(t.sizes).toEqual(want);
    expect(t.s.size).toBe(want[want.length - 1]);
  });
});
