import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { Controller } from '../../../../operator/src/kube/controller.ts';
import { KubeError } from '../../../../operator/src/kube/errors.ts';
import { WorkQueue } from '../../../../operator/src/kube/queue.ts';
import { ExponentialRateLimiter } from '../../../../operator/src/kube/rate-limiter.ts';
import { createMetrics } from '../../../../operator/src/metrics/metrics.ts';

const tick = () => new Promise((r) => setTimeout(r, 1));

function controller(reconcile: (key: string) => Promise<undefined>, workers = 4) {
  const metrics = createMetrics();
  const queue = new WorkQueue({ rateLimiter: new ExponentialRateLimiter(1, 4) });
  const c = new Controller({
    kind: 'McpServer',
    queue,
    reconcile,
    workers,
    log: pino({ level: 'silent' }),
    metrics,
  });
  const count = async (result: string) =>
    (await metrics.reconciles.get()).values.find((v) => v.labels.result === result)?.value ?? 0;
  return { c, queue, metrics, count };
}

describe('Controller', () => {
  it('never runs one key on two workers; adds during a run make exactly one more run', async () => {
    const gates: (() => void)[] = [];
    const runs: string[] = [];
    const { c, queue } = controller(async (key) => {
      runs.push(key);
      await new Promise<void>((release) => gates.push(release));
      return undefined;
    });
    c.start();
    queue.add('team/a');
    await tick();
    for (let i = 0; i < 10; i++) queue.add('team/a');
    queue.add('team/b');
    await tick();
    // Three idle workers, yet team/a runs once: the second run waits for the first.
    expect(runs).toEqual(['team/a', 'team/b']);
    gates.shift()?.();
    await tick();
    expect(runs).toEqual(['team/a', 'team/b', 'team/a']);
    for (const release of gates.splice(0)) release();
    await tick();
    expect(runs).toHaveLength(3);
    await c.stop();
  });

  it.each([
    { name: 'a conflict', error: new KubeError('CONFLICT', 409, 'someone wrote first'), code: 'CONFLICT' },
    { name: 'an unexpected error', error: new Error('boom'), code: 'INTERNAL' },
  ])('retries after $name with backoff and counts it', async ({ error, code }) => {
    let attempts = 0;
    const { c, queue, metrics, count } = controller(async () => {
      attempts++;
      if (attempts < 3) throw error;
      return undefined;
    });
    c.start();
    queue.add('team/a');
    while (attempts < 3) await tick();
    await tick();
    await c.stop();
    expect(await count('error')).toBe(2);
    expect(await count('success')).toBe(1);
    const errors = (await metrics.reconcileErrors.get()).values;
    expect(errors).toEqual([expect.objectContaining({ labels: { kind: 'McpServer', code }, value: 2 })]);
    // Success resets the backoff.
    expect(queue.failures('team/a')).toBe(0);
  });

  it('stop waits for the reconcile in flight', async () => {
    let finished = false;
    const { c, queue } = controller(async () => {
      await new Promise((r) => setTimeout(r, 20));
      finished = true;
      return undefined;
    }, 1);
    c.start();
    queue.add('team/a');
    await tick();
    await c.stop();
    expect(finished).toBe(true);
  });
});
