import { join } from 'node:path';
import { type Run, runToEnd } from './child-process.ts';

// `kubectl portcullis` as a person runs it: the plugin's entry point as a child process, its exit
// code and both streams.

export const PLUGIN_ENTRY = join(import.meta.dirname, '..', '..', 'operator', 'src', 'plugin', 'main.ts');

export function runPlugin(args: readonly string[], env: NodeJS.ProcessEnv = process.env): Promise<Run> {
  return runToEnd(process.execPath, [PLUGIN_ENTRY, ...args], { env, timeoutMs: 60_000 });
}
