import { type ChildProcess, spawn } from 'node:child_process';
import { closeSync, existsSync, openSync, readFileSync } from 'node:fs';
import { basename, join } from 'node:path';

// Every process that tests, benchmarks and the test cluster start. Each runs in its own process
// group under `setpriv --pdeathsig KILL` (setpriv execs, so the pid is the program's), so it dies
// with the runner even when the runner is killed and never gets to clean up; stop() ends the whole
// group (a server and the workers it forked). Output is kept in memory (its last 20 kB, for failure
// messages), written to a file, discarded or inherited, per stream.

/** Where a stream goes: its tail kept in memory, appended to a file, discarded, or this process's. */
export type Output = 'keep' | 'ignore' | 'inherit' | { readonly file: string };

export interface StartOptions {
  readonly cwd?: string;
  /** The whole environment (default: this process's). */
  readonly env?: NodeJS.ProcessEnv;
  readonly stdout?: Output;
  readonly stderr?: Output;
}

export interface ServingOptions {
  readonly timeoutMs?: number;
  /** Whether an answer means serving; default: a 2xx status. */
  readonly ready?: (res: Response) => boolean;
}

export interface Exit {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
}

export interface Child {
  readonly name: string;
  readonly process: ChildProcess;
  readonly pid: number;
  readonly exited: Promise<Exit>;
  /** The last of what the child wrote to its kept streams and output files. */
  output(): string;
  /** Resolves with the first match of `pattern` in the kept output; fails if the child exits first. */
  waitForOutput(pattern: RegExp, timeoutMs?: number): Promise<RegExpExecArray>;
  /** Polls `url` until it answers (2xx unless `ready` says otherwise); fails early if the child exits. */
  waitUntilServing(url: string, opts?: ServingOptions): Promise<void>;
  /** Sends `signal` to the child alone (not its group), as a crash or a kubelet would; resolves on exit. */
  kill(signal: NodeJS.Signals): Promise<Exit>;
  /** SIGTERM to the group, SIGKILL after the grace period; resolves once the child has exited. */
  stop(graceMs?: number): Promise<void>;
}

const KEEP_CHARS = 20_000;
// Found once on this process's PATH: a child's own environment may have none.
const SETPRIV =
  (process.env.PATH ?? '')
    .split(':')
    .map((d) => join(d, 'setpriv'))
    .find((f) => f.startsWith('/') && existsSync(f)) ?? 'setpriv';
const live = new Set<Child>();

// Last resort for an abrupt exit of this process: a synchronous SIGKILL to every group still running.
process.once('exit', () => {
  for (const c of live) signalGroup(c.process, 'SIGKILL');
});

function running(child: ChildProcess): boolean {
  return child.exitCode === null && child.signalCode === null;
}

function signalGroup(child: ChildProcess, signal: NodeJS.Signals): void {
  if (child.pid === undefined || !running(child)) return;
  try {
    process.kill(-child.pid, signal);
  } catch {
    // Already gone.
  }
}

function stdio(out: Output): 'pipe' | 'ignore' | 'inherit' | number {
  if (out === 'keep') return 'pipe';
  if (out === 'ignore' || out === 'inherit') return out;
  return openSync(out.file, 'a');
}

export function startChild(
  name: string,
  command: string,
  args: readonly string[],
  opts: StartOptions = {},
): Child {
  const outputs = [opts.stdout ?? 'keep', opts.stderr ?? 'keep'];
  const fds = outputs.map(stdio);
  const proc = spawn(SETPRIV, ['--pdeathsig', 'KILL', '--', command, ...args], {
    cwd: opts.cwd,
    env: opts.env ?? process.env,
    detached: true,
    stdio: ['ignore', fds[0] ?? 'pipe', fds[1] ?? 'pipe'],
  });
  for (const fd of fds) if (typeof fd === 'number') closeSync(fd); // the child holds its own copy
  const files = [...new Set(outputs.flatMap((o) => (typeof o === 'object' ? [o.file] : [])))];

  let kept = '';
  const waiters = new Set<() => void>();
  const keep = (chunk: Buffer) => {
    kept += chunk.toString();
    for (const w of waiters) w();
    if (kept.length > KEEP_CHARS) kept = kept.slice(-KEEP_CHARS);
  };
  proc.stdout?.on('data', keep);
  proc.stderr?.on('data', keep);

  const exited = new Promise<Exit>((resolve) =>
    proc.once('exit', (code, signal) => {
      live.delete(child);
      for (const w of waiters) w();
      resolve({ code, signal });
    }),
  );
  const output = () =>
    [kept, ...files.map((f) => (existsSync(f) ? readFileSync(f, 'utf8').slice(-KEEP_CHARS) : ''))]
      .filter((s) => s !== '')
      .join('\n');
  const died = () => `${name} exited with ${proc.exitCode ?? proc.signalCode}:\n${output()}`;

  const child: Child = {
    name,
    process: proc,
    pid: proc.pid as number,
    exited,
    output,
    waitForOutput(pattern, timeoutMs = 30_000) {
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => {
          waiters.delete(check);
          reject(new Error(`${name}: no ${pattern} after ${timeoutMs / 1000} s:\n${output()}`));
        }, timeoutMs);
        function check() {
          const m = pattern.exec(kept);
          if (!m && running(proc)) return;
          waiters.delete(check);
          clearTimeout(timer);
          if (m) resolve(m);
          else reject(new Error(died()));
        }
        waiters.add(check);
        check();
      });
    },
    async waitUntilServing(url, { timeoutMs = 20_000, ready = (r: Response) => r.ok } = {}) {
      const deadline = Date.now() + timeoutMs;
      while (Date.now() < deadline) {
        if (!running(proc)) throw new Error(`${url}: ${died()}`);
        const ok = await fetch(url).then(ready, () => false);
        if (ok) return;
        await new Promise((r) => setTimeout(r, 50));
      }
      throw new Error(`${url} not ready after ${timeoutMs / 1000} s:\n${output()}`);
    },
    kill(signal) {
      if (running(proc)) proc.kill(signal);
      return exited;
    },
    async stop(graceMs = 5_000) {
      if (!running(proc)) return;
      signalGroup(proc, 'SIGTERM');
      const timer = setTimeout(() => signalGroup(proc, 'SIGKILL'), graceMs);
      await exited;
      clearTimeout(timer);
    },
  };
  live.add(child);
  return child;
}

export interface Run extends Exit {
  readonly stdout: string;
  readonly stderr: string;
  /** Both streams as they came. */
  readonly output: string;
  /** Stopped (its group SIGKILLed) after the time limit. */
  readonly timedOut: boolean;
}

/** Runs a program to its end, as a person runs a CLI: exit code and every line it wrote. */
export async function runToEnd(
  command: string,
  args: readonly string[],
  opts: Omit<StartOptions, 'stdout' | 'stderr'> & { readonly timeoutMs?: number } = {},
): Promise<Run> {
  const child = startChild(
    [command, ...args.slice(0, 1)].map((a) => basename(a)).join(' '),
    command,
    args,
    opts,
  );
  const streams = { stdout: '', stderr: '', output: '' };
  for (const name of ['stdout', 'stderr'] as const) {
    child.process[name]?.on('data', (chunk: Buffer) => {
      streams[name] += chunk.toString();
      streams.output += chunk.toString();
    });
  }
  // Its streams end with it, unless something it started still holds them: then a second is enough.
  const closed = new Promise<void>((resolve) => child.process.once('close', () => resolve()));
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    void child.stop(0);
  }, opts.timeoutMs ?? 60_000);
  const exit = await child.exited;
  clearTimeout(timer);
  await Promise.race([closed, new Promise((r) => setTimeout(r, 1_000))]);
  return { ...exit, ...streams, timedOut };
}
