import type { ParseArgsOptionsConfig } from 'node:util';
import type { PluginKube } from './kube.ts';
import type { Output } from './output.ts';

// What a `kubectl portcullis` command is: its words, its help, its flags (node:util parseArgs
// configuration) and what it does. Each command is one module; commands.ts lists them.

export interface CommandContext {
  /** Flag values, parsed with the command's options plus the global ones (--kubeconfig, --namespace). */
  readonly values: Readonly<Record<string, string | boolean | (string | boolean)[] | undefined>>;
  readonly positionals: readonly string[];
  readonly out: Output;
  /** The cluster, opened on first use: offline commands never read a kubeconfig. */
  kube(): Promise<PluginKube>;
}

export interface Command {
  /** Words after `kubectl portcullis`, e.g. `policy test`. */
  readonly name: string;
  /** One line for the command list. */
  readonly summary: string;
  /** Synopsis and description shown by `--help`. */
  readonly usage: string;
  readonly options: ParseArgsOptionsConfig;
  /** Resolves to the process exit code (see EXIT in output.ts). */
  run(context: CommandContext): Promise<number>;
}

/** A mistake in the command line: reported with the command's usage hint, exit code 2. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}
