import { describe, expect, it } from 'vitest';
import { StdioProcess } from '../../../../sidecar/src/upstream/stdio-process.ts';

function groupAlive(pgid: number): boolean {
  try {
    process.kill(-pgid, 0);
    return true;
  } catch {
    return false;
  }
}

describe('a stdio server process', () => {
  it('counts as exited only once what it left running in its group is gone', async () => {
    // The leader starts a background process in its own group, then ends on its own.
    const p = new StdioProcess(
      { command: 'sh', args: ['-c', '(exec sleep 120 </dev/null >/dev/null 2>&1 &); exit 0'], env: {} },
      {},
    );
    await p.spawned;
    const pgid = p.pid as number;
    const exit = await p.exited;
    expect(exit.requested).toBe(false);
    expect(groupAlive(pgid)).toBe(false);
  });
});
