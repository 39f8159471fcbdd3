import { type ChildProcess, spawn } from 'node:child_process';

// Child processes of the benchmarks: each part (upstream, sidecar, receivers) gets its own event
// loop, as in a pod. Helpers announce themselves on the first line of stdout; sidecars are found
// ready on their admin port, and their stdout (the stdout audit sink) goes to /dev/null.

export function startProcess(
  args: string[],
  opts: { env?: NodeJS.ProcessEnv; stdout?: 'announce' | 'ignore' } = {},
): { child: ChildProcess; firstLine: Promise<string> } {
  const announce = (opts.stdout ?? 'announce') === 'announce';
  const child = spawn(process.execPath, args, {
    stdio: ['ignore', announce ? 'pipe' : 'ignore', 'inherit'],
    env: opts.env ?? process.env,
  });
  const firstLine = new Promise<string>((resolve, reject) => {
    let buf = '';
    const onData = (chunk: Buffer) => {
      buf += chunk.toString();
      const nl = buf.indexOf('\n');
      if (nl === -1) return;
      child.stdout?.off('data', onData);
      child.stdout?.resume(); // keep draining, so the child never blocks on a full pipe
      resolve(buf.slice(0, nl));
    };
    child.stdout?.on('data', onData);
    child.once('exit', (code) => reject(new Error(`${args[0]} exited with ${code}`)));
  });
  firstLine.catch(() => {}); // awaited only for helpers that announce themselves
  return { child, firstLine };
}
