import { randomUUID } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { rawConfig } from '../../support/harness.ts';
import { type SidecarProcess, startSidecarProcess } from '../../support/sidecar-process.ts';
import {
  connect,
  marked,
  type Processes,
  stateServerUpstream,
  waitForMarked,
} from '../../support/stdio-fixture.ts';

// The sidecar as a user runs it (`node sidecar/src/main.ts --config FILE`) with a stdio upstream, then
// stopped: by SIGTERM it stops every process group (servers and what they started) before it exits;
// killed by SIGKILL it cannot, and its servers still end: their input closes, and where setpriv is
// installed, the kernel's parent-death signal kills them.

const sidecars: SidecarProcess[] = [];
afterEach(async () => {
  for (const s of sidecars.splice(0)) await s.close();
});

async function startSidecar(
  marker: string,
  p: Partial<Processes>,
  env: { server?: Record<string, string>; sidecar?: Record<string, string> } = {},
): Promise<SidecarProcess> {
  const sidecar = await startSidecarProcess(
    rawConfig({ upstream: stateServerUpstream(marker, p, env.server) }),
    {
      env: env.sidecar,
    },
  );
  sidecars.push(sidecar);
  return sidecar;
}

describe('stdio upstream processes when the sidecar stops', () => {
  it('SIGTERM: every server and what it started is gone when the sidecar has exited', async () => {
    const marker = randomUUID();
    const sidecar = await startSidecar(
      marker,
      { warm: 1, stopGraceMs: 2_000 },
      { server: { STATE_SERVER_GRANDCHILD: '1' } },
    );
    const a = await connect(sidecar.url);
    const b = await connect(sidecar.url);
    await a.call('remember', { value: 'a' });
    await b.call('remember', { value: 'b' });
    // Two session servers and a warm one, each with a grandchild of its own.
    await waitForMarked(marker, (pids) => pids.length === 6, 'servers and grandchildren');
    const exit = await sidecar.child.kill('SIGTERM');
    expect(exit, sidecar.child.output()).toEqual({ code: 0, signal: null });
    expect(marked(marker)).toEqual([]);
  });

  it('SIGKILL: the servers see their input end and exit', async () => {
    const marker = randomUUID();
    // No setpriv on PATH: only the end of input stops them.
    const sidecar = await startSidecar(marker, {}, { sidecar: { PATH: '/nonexistent' } });
    const a = await connect(sidecar.url);
    const b = await connect(sidecar.url);
    await a.call('recall');
    await b.call('recall');
    expect(marked(marker)).toHaveLength(2);
    await sidecar.child.kill('SIGKILL');
    await waitForMarked(marker, (pids) => pids.length === 0, 'servers after SIGKILL of the sidecar', 10_000);
  });

  it('SIGKILL: a server that ignores the end of its input dies with the sidecar (setpriv --pdeathsig)', async () => {
    const marker = randomUUID();
    const sidecar = await startSidecar(marker, {}, { server: { STATE_SERVER_IGNORE_EOF: '1' } });
    const a = await connect(sidecar.url);
    await a.call('recall');
    expect(marked(marker)).toHaveLength(1);
    await sidecar.child.kill('SIGKILL');
    await waitForMarked(marker, (pids) => pids.length === 0, 'a server ignoring EOF after SIGKILL', 10_000);
  });
});
