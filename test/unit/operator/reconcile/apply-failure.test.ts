import { describe, expect, it } from 'vitest';
import { KubeError } from '../../../../operator/src/kube/errors.ts';
import { applyFailureMessage, isPassing } from '../../../../operator/src/reconcile/apply-failure.ts';

describe('apply failures', () => {
  it.each([
    { name: 'unreachable API server', err: new KubeError('UNAVAILABLE', 0, 'ECONNREFUSED'), passing: true },
    { name: 'a write race (409)', err: new KubeError('CONFLICT', 409, 'conflict'), passing: true },
    { name: 'throttling (429)', err: new KubeError('UNAVAILABLE', 429, 'slow down'), passing: true },
    { name: 'a 503', err: new KubeError('UNAVAILABLE', 503, 'unavailable'), passing: true },
    { name: 'a refusal by validation (422)', err: new KubeError('INVALID', 422, 'invalid'), passing: false },
    { name: 'an admission refusal (403)', err: new KubeError('FORBIDDEN', 403, 'denied'), passing: false },
    {
      name: 'a conversion failure of server-side apply (500)',
      err: new KubeError('UNAVAILABLE', 500, 'failed to create typed patch object'),
      passing: false,
    },
  ])('$name passing: $passing', ({ err, passing }) => {
    expect(isPassing(err)).toBe(passing);
  });

  it("names the child and quotes the API server's message", () => {
    const err = new KubeError('UNAVAILABLE', 500, 'quantities must match the regular expression');
    expect(applyFailureMessage('Deployment', 'web', err)).toBe(
      'Deployment web: quantities must match the regular expression',
    );
  });
});
