import { ReadBuffer } from '@modelcontextprotocol/sdk/shared/stdio.js';
import type { JSONRPCMessage } from '@modelcontextprotocol/sdk/types.js';
import type { Logger } from 'pino';
import type { ProcessExit } from './stdio-process.ts';

/** Largest message a server may write on stdout; larger ones are dropped (with an error log). */
const MAX_MESSAGE_BYTES = 64 * 1024 * 1024;

/**
 * One stdio MCP server process as the pool and the bridge see it, whoever started it: the sidecar
 * itself (StdioProcess) or the launcher in the server's container (LauncherProcess).
 */
export interface ServerProcess {
  /** Resolves once the process runs; rejects when it could not be started. */
  readonly spawned: Promise<void>;
  /** Resolves once the process and its group are gone. */
  readonly exited: Promise<ProcessExit>;
  readonly spawnedAt: number;
  readonly pid: number | undefined;
  readonly running: boolean;
  /** The MCP session it serves, for its log lines. */
  session: string | undefined;
  onmessage: ((msg: JSONRPCMessage) => void) | undefined;
  send(msg: JSONRPCMessage): Promise<void>;
  /** Ends input, SIGTERM to the group, SIGKILL after graceMs; resolves when the group is gone. */
  stop(graceMs: number): Promise<void>;
  /** Stops the group without waiting: the last resort when the sidecar exits abruptly. */
  killNow(): void;
}

/**
 * The reader of a server's stdout, in the SDK's framing (one JSON-RPC message a line): each
 * message to `deliver`; an overlong message dropped and a line that is not JSON-RPC skipped, logged
 * with `where` (the process's pid and session).
 */
export function messageReader(
  deliver: (msg: JSONRPCMessage) => void,
  logger: Logger | undefined,
  where: () => { pid: number | undefined; session: string | undefined },
): (chunk: Buffer) => void {
  const buffer = new ReadBuffer({ maxBufferSize: MAX_MESSAGE_BYTES });
  return (chunk) => {
    try {
      buffer.append(chunk);
    } catch (err) {
      logger?.error({ err, stdio: where() }, 'stdio server message dropped');
      return;
    }
    for (;;) {
      let msg: JSONRPCMessage | null;
      try {
        msg = buffer.readMessage();
      } catch (err) {
        logger?.warn({ err, stdio: where() }, 'stdio server wrote a line that is not a JSON-RPC message');
        continue;
      }
      if (msg === null) return;
      deliver(msg);
    }
  };
}
