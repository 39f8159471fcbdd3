import { canICommand } from './can-i/command.ts';
import { policyTestCommand } from './policy-test/command.ts';
import type { Command } from './shared/command.ts';

// Every `kubectl portcullis` command, in the order `--help` lists them.

export const COMMANDS: readonly Command[] = [policyTestCommand, canICommand];
