// No process of the control plane outlives whoever started it: not after an orderly stop, and not
// after the starter is killed outright with no chance to clean up.
import { existsSync, readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { basename } from 'node:path';
import { describe, expect, it } from 'vitest';
import { type Child, startChild } from '../../support/child-process.ts';

const COMPONENTS = ['etcd', 'kube-apiserver', 'kube-controller-manager', 'kube-scheduler', 'kwok'];

function childrenOf(pid: number): { pid: number; name: string }[] {
  const found: { pid: number; name: string }[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (ppid === pid)
        found.push({ pid: Number(entry), name: basename(readlinkSync(`/proc/${entry}/exe`)) });
    } catch {
      // The process ended while we looked.
    }
  }
  return found;
}

const alive = (pid: number) =>
  existsSync(`/proc/${pid}`) && !readFileSync(`/proc/${pid}/stat`, 'utf8').includes(') Z ');

async function startClusterUp(): Promise<{ child: Child; kubeconfig: string }> {
  const child = startChild('cluster:up', process.execPath, ['test/cluster/up.ts'], { stderr: 'inherit' });
  const [, kubeconfig = ''] = await child.waitForOutput(/export KUBECONFIG=(\S+)/, 300_000);
  return { child, kubeconfig };
}

async function until(what: string, check: () => boolean, timeoutMs = 20_000) {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out: ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe('control plane teardown', () => {
  it.each([
    ['an orderly stop (SIGINT)', 'SIGINT'],
    ['the starter killed outright (SIGKILL)', 'SIGKILL'],
  ] as const)('leaves no process behind after %s', async (_name, signal) => {
    const { child, kubeconfig } = await startClusterUp();
    try {
      const procs = childrenOf(child.pid);
      expect(procs.map((p) => p.name).sort()).toEqual([...COMPONENTS].sort());
      await child.kill(signal);
      await until('every component gone', () => procs.every((p) => !alive(p.pid)));
      if (signal === 'SIGINT') await until('work folder removed', () => !existsSync(kubeconfig));
    } finally {
      await child.kill('SIGKILL');
    }
  });
});
