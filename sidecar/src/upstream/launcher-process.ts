import { randomBytes } from 'node:crypto';
import { createConnection, type Socket } from 'node:net';
import { serializeMessage } from '@modelcontextprotocol/sdk/shared/stdio.js';
import type { JSONRPCMessage } from '@modelcontextprotocol/sdk/types.js';
import type { Logger } from 'pino';
import { messageReader, type ServerProcess } from './server-process.ts';
import type { ProcessExit } from './stdio-process.ts';

// A stdio MCP server process started by the Portcullis launcher (sidecar/launcher) in the server's
// own container, reached over the launcher's Unix socket: one connection per process, its first
// line a spawn request and the launcher's answer, then the process's stdin and stdout. Closing the
// connection is the stop (the launcher sends SIGTERM to the group, SIGKILL after the grace); the
// launcher closes it once the group is gone. The protocol is in docs/stdio.md.

/** Longest answer line of the launcher ({"pid":N} or {"error":...}). */
const MAX_ANSWER_BYTES = 4096;
/** Time the launcher has, past the grace, to report a stopped group gone before the sidecar stops waiting. */
const STOP_SLACK_MS = 5_000;

export class LauncherProcess implements ServerProcess {
  readonly #socket: Socket;
  readonly #socketPath: string;
  readonly #logger: Logger | undefined;
  /** The launcher's name for the process: its working directory, and the key to tag its log. */
  readonly id = randomBytes(16).toString('base64url');
  readonly #read: (chunk: Buffer) => void;
  #answer: Buffer | undefined = Buffer.alloc(0);
  #pid: number | undefined;
  #closed = false;
  #requested = false;
  #answered = false;
  #session: string | undefined;
  #stopping: Promise<void> | undefined;
  readonly spawned: Promise<void>;
  readonly exited: Promise<ProcessExit>;
  readonly spawnedAt = performance.now();
  onmessage: ((msg: JSONRPCMessage) => void) | undefined;

  constructor(socketPath: string, deps: { logger?: Logger | undefined; graceMs: number }) {
    this.#socketPath = socketPath;
    this.#logger = deps.logger;
    this.#read = messageReader(
      (msg) => {
        this.#answered = true;
        this.onmessage?.(msg);
      },
      this.#logger,
      () => ({ pid: this.#pid, session: this.#session }),
    );
    this.#socket = createConnection(socketPath);
    let started: () => void = () => {};
    let refused: (err: Error) => void = () => {};
    this.spawned = new Promise((resolve, reject) => {
      started = resolve;
      refused = reject;
    });
    // A warm process's failure is seen by no one awaiting it: the pool counts it through `exited`.
    this.spawned.catch(() => {});
    this.#socket.once('connect', () =>
      this.#socket.write(`${JSON.stringify({ op: 'spawn', id: this.id, graceMs: deps.graceMs })}\n`),
    );
    this.#socket.on('data', (chunk: Buffer) => {
      if (this.#answer === undefined) return this.#read(chunk);
      const text = Buffer.concat([this.#answer, chunk]);
      const eol = text.indexOf(0x0a);
      if (eol < 0) {
        if (text.length > MAX_ANSWER_BYTES) this.#socket.destroy(new Error('launcher answer too long'));
        else this.#answer = text;
        return;
      }
      this.#answer = undefined;
      let answer: { pid?: unknown; error?: unknown };
      try {
        answer = JSON.parse(text.subarray(0, eol).toString());
      } catch {
        answer = { error: 'the launcher answered something that is not JSON' };
      }
      if (typeof answer.pid !== 'number') {
        refused(new Error(`the launcher did not start the server: ${String(answer.error ?? 'no pid')}`));
        this.#socket.destroy();
        return;
      }
      this.#pid = answer.pid;
      started();
      if (eol + 1 < text.length) this.#read(text.subarray(eol + 1));
    });
    this.#socket.on('error', (err) => {
      refused(err);
      this.#logger?.warn(
        { err, stdio: { pid: this.#pid, session: this.#session } },
        'stdio launcher connection error',
      );
    });
    this.exited = new Promise((resolve) => {
      this.#socket.once('close', () => {
        this.#closed = true;
        refused(new Error('the launcher closed the connection before it started the server'));
        resolve({ code: null, signal: null, requested: this.#requested, answered: this.#answered });
      });
    });
  }

  get pid(): number | undefined {
    return this.#pid;
  }

  get running(): boolean {
    return this.#pid !== undefined && !this.#closed && !this.#requested;
  }

  get session(): string | undefined {
    return this.#session;
  }

  /** Binding a session tags the process's stderr lines in the launcher's log with it. */
  set session(id: string | undefined) {
    this.#session = id;
    if (id === undefined) return;
    const tag = createConnection(this.#socketPath);
    tag.once('connect', () => tag.end(`${JSON.stringify({ op: 'tag', id: this.id, session: id })}\n`));
    tag.on('error', (err) =>
      this.#logger?.warn({ err, stdio: { pid: this.#pid, session: id } }, 'stdio launcher tag failed'),
    );
    tag.resume();
  }

  send(msg: JSONRPCMessage): Promise<void> {
    if (!this.running) return Promise.reject(new Error('stdio server is not running'));
    return new Promise((resolve, reject) => {
      this.#socket.write(serializeMessage(msg), (err) => (err ? reject(err) : resolve()));
    });
  }

  stop(graceMs: number): Promise<void> {
    this.#stopping ??= this.#stop(graceMs);
    return this.#stopping;
  }

  killNow(): void {
    this.#requested = true;
    this.#socket.destroy();
  }

  async #stop(graceMs: number): Promise<void> {
    this.#requested = true;
    // End of input: the launcher stops the group and closes the connection once it is gone.
    this.#socket.end();
    const timer = setTimeout(() => this.#socket.destroy(), 2 * graceMs + STOP_SLACK_MS).unref();
    await this.exited;
    clearTimeout(timer);
  }
}
