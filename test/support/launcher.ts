import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { cacheRoot, ensure } from '../fixtures/upstreams/install.ts';

// The stdio launcher (sidecar/launcher), built static the way Dockerfile.sidecar builds it and
// cached by its sources' digest, so a test runs the same binary a pod would.

const run = promisify(execFile);
const SOURCE = fileURLToPath(new URL('../../sidecar/launcher/', import.meta.url));

export async function ensureLauncher(): Promise<string> {
  const hash = createHash('sha256');
  for (const f of ['go.mod', 'main.go']) hash.update(f).update(await readFile(join(SOURCE, f)));
  const dir = join(cacheRoot(), '..', 'launcher', hash.digest('hex').slice(0, 12));
  return ensure(join(dir, 'launcher'), async (staging) => {
    const env = { ...process.env, CGO_ENABLED: '0', GOFLAGS: '-mod=readonly' };
    await run('go', ['build', '-trimpath', '-ldflags=-s -w', '-o', staging, '.'], { cwd: SOURCE, env });
  });
}

// The stdio launcher as a real process, as in a pod: its own socket and sessions folder, the
// server's command after "--", and its log (the container log) kept as parsed JSON lines.

export interface RunningLauncher {
  readonly socket: string;
  readonly sessions: string;
  readonly pid: number;
  readonly lines: Record<string, unknown>[];
  /** Resolves with the exit code once the launcher has exited. */
  readonly exited: Promise<number | null>;
  /** Signals the launcher, waits for its exit and removes its folder. */
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

export async function startLauncher(
  command: string,
  args: readonly string[],
  env: Record<string, string> = {},
  flags: readonly string[] = [],
): Promise<RunningLauncher> {
  const binary = await ensureLauncher();
  const dir = await mkdtemp(join(tmpdir(), 'portcullis-launcher-'));
  const socket = join(dir, 'launcher.sock');
  const sessions = join(dir, 'sessions');
  const child: ChildProcess = spawn(
    binary,
    ['-socket', socket, '-sessions', sessions, ...flags, '--', command, ...args],
    { env: { PATH: process.env.PATH ?? '', ...env }, stdio: ['ignore', 'inherit', 'pipe'] },
  );
  const lines: Record<string, unknown>[] = [];
  let rest = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    const parts = (rest + chunk.toString()).split('\n');
    rest = parts.pop() ?? '';
    for (const l of parts) if (l) lines.push(JSON.parse(l));
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const deadline = Date.now() + 10_000;
  while (!lines.some((l) => l.msg === 'launcher listening')) {
    if (Date.now() > deadline) throw new Error(`the launcher did not start: ${JSON.stringify(lines)}`);
    if (child.exitCode !== null) throw new Error(`the launcher exited: ${JSON.stringify(lines)}`);
    await new Promise((r) => setTimeout(r, 20));
  }
  return {
    socket,
    sessions,
    pid: child.pid as number,
    lines,
    exited,
    async stop(signal = 'SIGTERM') {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      const code = await exited;
      await rm(dir, { recursive: true, force: true });
      return code;
    },
  };
}
