import { type ChildProcess, spawn } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';
import { serializeMessage } from '@modelcontextprotocol/sdk/shared/stdio.js';
import type { JSONRPCMessage } from '@modelcontextprotocol/sdk/types.js';
import type { Logger } from 'pino';
import { messageReader, type ServerProcess } from './server-process.ts';
import { createLineLog } from './stderr-log.ts';

// One stdio MCP server process, in its own process group, so that stopping it also stops what it
// started (npx → node, uvx → python). The SDK's StdioClientTransport is not used because it neither
// starts a group nor signals one; its framing (ReadBuffer, serializeMessage) is.
//
// If the sidecar dies without stopping it (SIGKILL, OOM): the kernel closes the write end of the
// child's stdin, and MCP stdio servers end on end of input; where util-linux's setpriv is installed
// the child is also started under `setpriv --pdeathsig KILL`, so the kernel kills it when the
// sidecar dies (Node cannot call prctl itself). What the child started itself gets only the end
// of input. In a container the sidecar is PID 1 and the kernel kills every process of the
// container with it.

export interface StdioCommand {
  readonly command: string;
  readonly args: readonly string[];
  readonly env: Readonly<Record<string, string>>;
}

export interface ProcessExit {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  /** Whether the sidecar asked it to stop (stop, kill), as opposed to a crash or early exit. */
  readonly requested: boolean;
  /** Whether it had sent any message before it ended. */
  readonly answered: boolean;
}

/** How often a stopping group is checked for members left behind by its leader. */
const GROUP_POLL_MS = 50;
/** How long a group whose leader ended is given to empty after SIGKILL (zombies may linger in PID 1). */
const GROUP_REAP_MS = 5_000;

export class StdioProcess implements ServerProcess {
  readonly #child: ChildProcess;
  readonly #read: (chunk: Buffer) => void;
  readonly #logger: Logger | undefined;
  #requested = false;
  #answered = false;
  #stopping: Promise<void> | undefined;
  /** Resolves once the process has been spawned; rejects when it could not be (ENOENT, EACCES). */
  readonly spawned: Promise<void>;
  readonly exited: Promise<ProcessExit>;
  readonly spawnedAt = performance.now();
  /** The MCP session it serves, for its log lines. */
  session: string | undefined;
  onmessage: ((msg: JSONRPCMessage) => void) | undefined;

  constructor(cmd: StdioCommand, deps: { logger?: Logger | undefined; pdeathsig?: string | undefined }) {
    this.#logger = deps.logger;
    this.#read = messageReader(
      (msg) => {
        this.#answered = true;
        this.onmessage?.(msg);
      },
      this.#logger,
      () => ({ pid: this.pid, session: this.session }),
    );
    const [file, args] =
      deps.pdeathsig !== undefined
        ? [deps.pdeathsig, ['--pdeathsig', 'KILL', '--', cmd.command, ...cmd.args]]
        : [cmd.command, [...cmd.args]];
    this.#child = spawn(file, args, {
      env: { ...cmd.env },
      detached: true,
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    this.spawned = new Promise((resolve, reject) => {
      this.#child.once('spawn', resolve);
      this.#child.once('error', reject);
    });
    // A warm process's failure is seen by no one awaiting it: the pool counts it through `exited`.
    this.spawned.catch(() => {});
    this.#child.on('error', (err) =>
      this.#logger?.warn({ err, stdio: { pid: this.pid } }, 'stdio server error'),
    );
    this.exited = new Promise((resolve) => {
      // The leader's end is not the end: what it started stays in its group, counted against the cap
      // and killed, until the group is empty. Nothing may outlive the server of a session.
      this.#child.once(
        'close',
        (code, signal) =>
          void this.#reapGroup().then(() =>
            resolve({ code, signal, requested: this.#requested, answered: this.#answered }),
          ),
      );
      // A spawn failure emits 'error' and, on some platforms, no 'close'.
      this.#child.once('error', () =>
        resolve({ code: null, signal: null, requested: this.#requested, answered: false }),
      );
    });
    this.#child.stdout?.on('data', (chunk: Buffer) => this.#read(chunk));
    const stderr = createLineLog((line, truncated) =>
      this.#logger?.info({ stdio: { pid: this.pid, session: this.session, truncated } }, line),
    );
    this.#child.stderr?.on('data', (chunk: Buffer) => stderr.write(chunk));
    this.#child.stderr?.on('end', () => stderr.end());
    // A server that ends early closes its stdin: the write error is the exit, reported through exited.
    this.#child.stdin?.on('error', () => {});
  }

  get pid(): number | undefined {
    return this.#child.pid;
  }

  get running(): boolean {
    return this.#child.pid !== undefined && this.#child.exitCode === null && this.#child.signalCode === null;
  }

  send(msg: JSONRPCMessage): Promise<void> {
    const stdin = this.#child.stdin;
    if (stdin === null || !stdin.writable) return Promise.reject(new Error('stdio server is not running'));
    return new Promise((resolve, reject) => {
      stdin.write(serializeMessage(msg), (err) => (err ? reject(err) : resolve()));
    });
  }

  /**
   * Ends input, sends SIGTERM to the process group, and SIGKILL to what is left of the group after
   * graceMs. Resolves when the group is empty (or was killed).
   */
  stop(graceMs: number): Promise<void> {
    this.#stopping ??= this.#stop(graceMs);
    return this.#stopping;
  }

  /** SIGKILL to the whole group at once: the last resort when the sidecar exits abruptly. */
  killNow(): void {
    this.#requested = true;
    this.#signalGroup('SIGKILL');
  }

  async #stop(graceMs: number): Promise<void> {
    this.#requested = true;
    const pgid = this.#child.pid;
    if (pgid === undefined) return;
    this.#child.stdin?.end();
    this.#signalGroup('SIGTERM');
    const deadline = performance.now() + graceMs;
    await Promise.race([this.exited, sleep(graceMs)]);
    // The leader is gone; members it started may still be finishing.
    while (groupAlive(pgid) && performance.now() < deadline) await sleep(GROUP_POLL_MS);
    this.#signalGroup('SIGKILL');
    await this.exited;
  }

  async #reapGroup(): Promise<void> {
    const pgid = this.#child.pid;
    if (pgid === undefined || !groupAlive(pgid)) return;
    this.#signalGroup('SIGKILL');
    const deadline = performance.now() + GROUP_REAP_MS;
    while (groupAlive(pgid) && performance.now() < deadline) await sleep(GROUP_POLL_MS);
  }

  #signalGroup(signal: NodeJS.Signals): void {
    const pgid = this.#child.pid;
    if (pgid === undefined) return;
    try {
      process.kill(-pgid, signal);
    } catch {
      // ESRCH: the group is empty already.
    }
  }
}

/** Whether any process is left in the group (EPERM: it exists but is not ours to signal). */
function groupAlive(pgid: number): boolean {
  try {
    process.kill(-pgid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref());
}

/** util-linux's setpriv on PATH, which sets the parent-death signal before it executes the server. */
export function findSetpriv(path = process.env.PATH ?? ''): string | undefined {
  for (const dir of path.split(delimiter)) {
    if (dir === '') continue;
    const file = join(dir, 'setpriv');
    try {
      accessSync(file, constants.X_OK);
      return file;
    } catch {
      // not in this folder
    }
  }
  return undefined;
}
