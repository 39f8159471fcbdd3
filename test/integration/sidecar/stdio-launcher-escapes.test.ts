import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { ask, type RunningLauncher, startLauncher } from '../../support/launcher.ts';
import { MARKER, marked, until, waitForMarked } from '../../support/stdio-fixture.ts';

// A stdio server that daemonizes (setsid: a session and process group of its own) must not outlive
// its session, the launcher's process cap, or the launcher. Real launcher, real daemonizing shell.

let launcher: RunningLauncher | undefined;
afterEach(async () => {
  await launcher?.stop();
  launcher = undefined;
});

// The server: starts a daemon in a new session, then echoes its input (the session) until it ends.
const DAEMONIZE = 'setsid sleep 600 </dev/null >/dev/null 2>&1 & exec cat';
// A daemon proper (double fork: orphaned, handed to the launcher) that also clears the launcher's
// marker from its environment: nothing but the launcher is above it.
const DAEMONIZE_UNMARKED =
  '(env -u PORTCULLIS_LAUNCHER_PROCESS setsid sleep 600 </dev/null >/dev/null 2>&1 &); exec cat';

/** The marked `sleep` daemons: in a session of their own, apart from the server's group. */
function daemons(marker: string): number[] {
  return marked(marker).filter((pid) => {
    try {
      return readFileSync(`/proc/${pid}/cmdline`, 'latin1').startsWith('sleep\0');
    } catch {
      return false;
    }
  });
}

async function start(marker: string, script: string, flags: string[] = []) {
  launcher = await startLauncher('/bin/sh', ['-c', script], { [MARKER]: marker }, flags);
  return launcher;
}

describe('a stdio server that daemonizes, through the launcher', () => {
  it('its daemon ends with its session', async () => {
    const marker = randomUUID();
    const l = await start(marker, DAEMONIZE);
    const { answer, conn } = await ask(l.socket, '{"op":"spawn","id":"a","graceMs":200}');
    expect(typeof answer.pid).toBe('number');
    await waitForMarked(marker, () => daemons(marker).length === 1, 'the daemon started');
    conn.destroy();
    await waitForMarked(marker, () => daemons(marker).length === 0, 'the daemon after its session ended');
    await until(
      () => l.lines.some((x) => x.msg === 'killed processes the server left running outside its group'),
      'the sweep logged',
    );
  });

  it('a daemon that clears its marker holds a process slot until its session ends', async () => {
    const marker = randomUUID();
    const l = await start(marker, DAEMONIZE_UNMARKED, ['-max-processes', '2']);
    const a = await ask(l.socket, '{"op":"spawn","id":"a","graceMs":200}');
    expect(typeof a.answer.pid).toBe('number');
    await waitForMarked(marker, () => daemons(marker).length === 1, 'the unmarked daemon started');
    // One server and its escaped daemon: the cap of two is reached.
    const b = await ask(l.socket, '{"op":"spawn","id":"b","graceMs":200}');
    expect(b.answer.error).toMatch(/at capacity/);
    b.conn.destroy();
    a.conn.destroy();
    await waitForMarked(marker, () => daemons(marker).length === 0, 'the daemon after its session ended');
    const c = await ask(l.socket, '{"op":"spawn","id":"c","graceMs":200}');
    expect(typeof c.answer.pid).toBe('number');
    c.conn.destroy();
  });

  it("SIGTERM of the launcher ends every server's daemon, marked or not", async () => {
    const marker = randomUUID();
    const l = await start(marker, DAEMONIZE_UNMARKED);
    const a = await ask(l.socket, '{"op":"spawn","id":"a","graceMs":200}');
    const b = await ask(l.socket, '{"op":"spawn","id":"b","graceMs":200}');
    expect([typeof a.answer.pid, typeof b.answer.pid]).toEqual(['number', 'number']);
    await waitForMarked(marker, () => daemons(marker).length === 2, 'two daemons started');
    expect(await l.stop('SIGTERM')).toBe(0);
    launcher = undefined;
    await waitForMarked(marker, (pids) => pids.length === 0, 'processes after the launcher exited');
  });
});
