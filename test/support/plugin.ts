import { spawn } from 'node:child_process';
import { join } from 'node:path';

// `kubectl portcullis` as a person runs it: the plugin's entry point as a child process, its exit
// code and both streams.

export const PLUGIN_ENTRY = join(import.meta.dirname, '..', '..', 'operator', 'src', 'plugin', 'main.ts');

export interface PluginRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

export function runPlugin(args: readonly string[], env: NodeJS.ProcessEnv = process.env): Promise<PluginRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [PLUGIN_ENTRY, ...args], {
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}
