import { type ChildProcess, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { freePort } from '../../../sidecar/src/quickstart/everything.ts';
import { waitUntilServing } from '../../support/child-process.ts';
import { rawConfig } from '../../support/harness.ts';
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

interface Sidecar {
  readonly child: ChildProcess;
  readonly url: string;
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  output(): string;
}

const dirs: string[] = [];
const children: ChildProcess[] = [];
afterEach(async () => {
  for (const c of children.splice(0)) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  for (const d of dirs.splice(0)) await rm(d, { recursive: true, force: true });
});

async function startSidecarProcess(
  marker: string,
  p: Partial<Processes>,
  env: { server?: Record<string, string>; sidecar?: Record<string, string> } = {},
): Promise<Sidecar> {
  const [port, adminPort] = [await freePort(), await freePort()];
  const config = rawConfig({
    upstream: stateServerUpstream(marker, p, env.server),
    canonicalUri: `http://127.0.0.1:${port}/mcp`,
  });
  config.listen.port = port;
  config.admin.port = adminPort;
  const dir = await mkdtemp(join(tmpdir(), 'portcullis-stdio-'));
  dirs.push(dir);
  const file = join(dir, 'sidecar.yaml');
  await writeFile(file, stringify(config));
  const child = spawn(process.execPath, ['sidecar/src/main.ts', '--config', file], {
    cwd: new URL('../../../', import.meta.url).pathname,
    env: { ...process.env, LOG_LEVEL: 'warn', ...env.sidecar },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(child);
  let output = '';
  const keep = (chunk: Buffer) => {
    output = (output + chunk.toString()).slice(-20_000);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal })),
  );
  await waitUntilServing(child, `http://127.0.0.1:${adminPort}/readyz`, () => output);
  return { child, url: `http://127.0.0.1:${port}/mcp`, exited, output: () => output };
}

describe('stdio upstream processes when the sidecar stops', () => {
  it('SIGTERM: every server and what it started is gone when the sidecar has exited', async () => {
    const marker = randomUUID();
    const sidecar = await startSidecarProcess(
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
    sidecar.child.kill('SIGTERM');
    const exit = await sidecar.exited;
    expect(exit, sidecar.output()).toEqual({ code: 0, signal: null });
    expect(marked(marker)).toEqual([]);
  });

  it('SIGKILL: the servers see their input end and exit', async () => {
    const marker = randomUUID();
    // No setpriv on PATH: only the end of input stops them.
    const sidecar = await startSidecarProcess(marker, {}, { sidecar: { PATH: '/nonexistent' } });
    const a = await connect(sidecar.url);
    const b = await connect(sidecar.url);
    await a.call('recall');
    await b.call('recall');
    expect(marked(marker)).toHaveLength(2);
    sidecar.child.kill('SIGKILL');
    await sidecar.exited;
    await waitForMarked(marker, (pids) => pids.length === 0, 'servers after SIGKILL of the sidecar', 10_000);
  });

  it('SIGKILL: a server that ignores the end of its input dies with the sidecar (setpriv --pdeathsig)', async () => {
    const marker = randomUUID();
    const sidecar = await startSidecarProcess(marker, {}, { server: { STATE_SERVER_IGNORE_EOF: '1' } });
    const a = await connect(sidecar.url);
    await a.call('recall');
    expect(marked(marker)).toHaveLength(1);
    sidecar.child.kill('SIGKILL');
    await sidecar.exited;
    await waitForMarked(marker, (pids) => pids.length === 0, 'a server ignoring EOF after SIGKILL', 10_000);
  });
});
