// Child processes of the control plane. Each runs in its own process group under
// `setpriv --pdeathsig KILL`, so it dies with the test runner even when the runner itself is killed
// and never gets to clean up; stop() ends the whole group.
import { type ChildProcess, spawn } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { join } from 'node:path';

export interface Managed {
  name: string;
  child: ChildProcess;
  logFile: string;
  exited: Promise<number | null>;
}

const live = new Set<Managed>();

// Last resort for an abrupt exit of this process: a synchronous SIGKILL to every group still running.
process.once('exit', () => {
  for (const m of live) killGroup(m, 'SIGKILL');
});

function killGroup(m: Managed, signal: NodeJS.Signals) {
  if (m.child.pid === undefined || m.child.exitCode !== null || m.child.signalCode !== null) return;
  try {
    process.kill(-m.child.pid, signal);
  } catch {
    // Already gone.
  }
}

export function startProcess(name: string, command: string, args: string[], logDir: string): Managed {
  const logFile = join(logDir, `${name}.log`);
  const log = createWriteStream(logFile);
  const child = spawn('setpriv', ['--pdeathsig', 'KILL', '--', command, ...args], {
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout?.pipe(log);
  child.stderr?.pipe(log);
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const managed: Managed = { name, child, logFile, exited };
  live.add(managed);
  void exited.then(() => live.delete(managed));
  return managed;
}

/** SIGTERM, then SIGKILL after the grace period; resolves once the process has exited. */
export async function stopProcess(m: Managed, graceMs = 5_000): Promise<void> {
  if (!live.has(m)) return;
  killGroup(m, 'SIGTERM');
  const timer = setTimeout(() => killGroup(m, 'SIGKILL'), graceMs);
  await m.exited;
  clearTimeout(timer);
}
