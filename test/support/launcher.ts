import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { createConnection, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { buildOnce, cacheDir } from './cache.ts';
import { startChild } from './child-process.ts';

// The stdio launcher (sidecar/launcher), built static the way Dockerfile.sidecar builds it and
// cached by its sources' digest, so a test runs the same binary a pod would.

const run = promisify(execFile);
const SOURCE = fileURLToPath(new URL('../../sidecar/launcher/', import.meta.url));

export async function ensureLauncher(): Promise<string> {
  const hash = createHash('sha256');
  const sources = (await readdir(SOURCE)).filter((f) => f === 'go.mod' || f.endsWith('.go')).sort();
  for (const f of sources) hash.update(f).update(await readFile(join(SOURCE, f)));
  const dir = cacheDir('launcher', hash.digest('hex').slice(0, 12));
  return buildOnce(join(dir, 'launcher'), async (staging) => {
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
  const child = startChild(
    'launcher',
    binary,
    ['-socket', socket, '-sessions', sessions, ...flags, '--', command, ...args],
    { env: { PATH: process.env.PATH ?? '', ...env }, stdout: 'inherit' },
  );
  const lines: Record<string, unknown>[] = [];
  let rest = '';
  child.process.stderr?.on('data', (chunk: Buffer) => {
    const parts = (rest + chunk.toString()).split('\n');
    rest = parts.pop() ?? '';
    for (const l of parts) if (l) lines.push(JSON.parse(l));
  });
  await child.waitForOutput(/"msg":"launcher listening"/, 10_000);
  return {
    socket,
    sessions,
    pid: child.pid,
    lines,
    exited: child.exited.then((e) => e.code),
    async stop(signal = 'SIGTERM') {
      const { code } = await child.kill(signal);
      await rm(dir, { recursive: true, force: true });
      return code;
    },
  };
}

/** One request line to the launcher's socket; resolves with its answer line (and keeps the connection). */
export function ask(
  socket: string,
  request: string,
): Promise<{ answer: Record<string, unknown>; conn: Socket }> {
  return new Promise((resolve, reject) => {
    const conn = createConnection(socket, () => conn.write(`${request}\n`));
    let text = '';
    conn.on('error', reject);
    conn.on('data', (b: Buffer) => {
      text += b.toString();
      const eol = text.indexOf('\n');
      if (eol >= 0) resolve({ answer: JSON.parse(text.slice(0, eol)), conn });
    });
  });
}
