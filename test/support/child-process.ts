import type { ChildProcess } from 'node:child_process';

// Child processes that tests and benchmarks start: wait until one answers on an HTTP URL, stop it.

/** Polls `url` until it answers 2xx; fails early, with `output()`, if the child exits first. */
export async function waitUntilServing(
  child: ChildProcess,
  url: string,
  output: () => string = () => '',
  timeoutMs = 20_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null)
      throw new Error(`${url}: the process exited with ${child.exitCode}:\n${output()}`);
    const ok = await fetch(url).then(
      (r) => r.ok,
      () => false,
    );
    if (ok) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`${url} not ready after ${timeoutMs / 1000} s:\n${output()}`);
}

/** SIGTERM, SIGKILL after the grace period; resolves once the child has exited. */
export function stopChild(child: ChildProcess, graceMs = 5_000): Promise<void> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve();
    child.once('exit', () => resolve());
    child.kill('SIGTERM');
    setTimeout(() => child.kill('SIGKILL'), graceMs).unref();
  });
}
