import type { JSONRPCMessage } from '@modelcontextprotocol/sdk/types.js';
import type { ProcessExit } from './stdio-process.ts';

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
