import { type ChildProcess, spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import { createServer } from 'node:net';
import { dirname, join } from 'node:path';
import { getDefaultEnvironment } from '@modelcontextprotocol/sdk/client/stdio.js';

// Starts the reference "everything" MCP server as a child process, for the quick start and the
// tests: streamableHttp or sse on a free loopback port, or the path of its stdio entry. Its get-env
// tool prints its whole environment, so it gets a minimal one (the SDK's allow-list that stdio servers
// get too, plus PORT), never the sidecar's (which holds PORTCULLIS_API_KEY); and it listens on
// loopback only, so nobody reaches it around the sidecar.

export type EverythingMode = 'streamableHttp' | 'sse';

export interface EverythingServer {
  /** The MCP endpoint: /mcp (streamableHttp) or /sse (sse). */
  readonly url: string;
  readonly port: number;
  readonly process: ChildProcess;
  close(): Promise<void>;
}

export function everythingEntry(): string {
  const require = createRequire(import.meta.url);
  const pkg = require.resolve('@modelcontextprotocol/server-everything/package.json');
  return join(dirname(pkg), 'dist', 'index.js');
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

export async function startEverything(
  mode: EverythingMode,
  opts: { timeoutMs?: number } = {},
): Promise<EverythingServer> {
  const port = await freePort();
  // Compiled, this module is .js and so is its preload; tsc rewrites imports, not URLs.
  const ext = import.meta.url.endsWith('.ts') ? '.ts' : '.js';
  const preload = new URL(`./loopback-listen${ext}`, import.meta.url).href;
  const child = spawn(process.execPath, ['--import', preload, everythingEntry(), mode], {
    env: { ...getDefaultEnvironment(), PORT: String(port) },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout?.resume();
  // If this process dies (crash, uncaught error), the server must not outlive it.
  const killChild = () => child.kill('SIGTERM');
  process.once('exit', killChild);
  child.once('exit', () => process.off('exit', killChild));
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`everything server (${mode}) did not start`)),
      opts.timeoutMs ?? 20_000,
    );
    let seen = '';
    child.stderr?.on('data', (chunk: Buffer) => {
      seen += chunk.toString();
      if (/listening on port|running on port/i.test(seen)) {
        clearTimeout(timer);
        child.stderr?.resume();
        resolve();
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`everything server exited with ${code}: ${seen.slice(-500)}`));
    });
  });
  return {
    url: `http://127.0.0.1:${port}/${mode === 'sse' ? 'sse' : 'mcp'}`,
    port,
    process: child,
    close: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
        setTimeout(() => child.kill('SIGKILL'), 3000).unref();
      }),
  };
}
