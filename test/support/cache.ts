import { access, mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';

// What the tests build once and keep under ~/.cache/portcullis/ (XDG_CACHE_HOME): the control-plane
// binaries, the stdio launcher, the Go upstream, the Python venvs. Each result sits in a folder keyed
// by what it was built from, is built aside and renamed into place (a killed build leaves nothing),
// and one builder at a time makes it (parallel test files ask at once).

export function cacheDir(...parts: string[]): string {
  return join(process.env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'portcullis', ...parts);
}

export const exists = (p: string) =>
  access(p).then(
    () => true,
    () => false,
  );

/** One holder at a time of `path` (a lock file with the holder's pid; a dead holder's is taken over). */
export async function lock(path: string, log: (s: string) => void = () => {}): Promise<() => Promise<void>> {
  let announced = false;
  for (;;) {
    try {
      await writeFile(path, String(process.pid), { flag: 'wx' });
      return () => rm(path, { force: true });
    } catch {
      const holder = Number(await readFile(path, 'utf8').catch(() => ''));
      if (!isAlive(holder)) {
        await rm(path, { force: true });
        continue;
      }
      if (!announced) log(`waiting for the build in process ${holder}`);
      announced = true;
      await new Promise((r) => setTimeout(r, 1_000));
    }
  }
}

function isAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** `target`, made by `build(staging)` and renamed into place unless it exists. */
export async function buildOnce(target: string, build: (staging: string) => Promise<void>): Promise<string> {
  if (await exists(target)) return target;
  await mkdir(dirname(target), { recursive: true });
  const unlock = await lock(`${target}.lock`);
  const staging = `${target}.build-${process.pid}`;
  try {
    if (await exists(target)) return target;
    await rm(staging, { recursive: true, force: true });
    await build(staging);
    await rename(staging, target);
    return target;
  } finally {
    await rm(staging, { recursive: true, force: true });
    await unlock();
  }
}
