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

  it('stays bounded', () => {
    const s = new SessionBindings({ maxSessions: 10 });
    for (let i = 0; i < 100; i++) s.bind(`s${i}`, 'a');
    expect(s.size).toBeLessThanOrEqual(10);
    expect(s.check('s99', 'a')).toBe('owner');
  });
});
