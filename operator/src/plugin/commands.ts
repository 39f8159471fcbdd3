import { canICommand } from './can-i/command.ts';
import { policyTestCommand } from './policy-test/command.ts';
import type { Command } from './shared/command.ts';
import { toolsApproveCommand } from './tools/approve.ts';
import { toolsDiffCommand } from './tools/diff.ts';
import { toolsCommand } from './tools/list.ts';

// Every `kubectl portcullis` command, in the order `--help` lists them.

export const COMMANDS: readonly Command[] = [
  policyTestCommand,
  canICommand,
  toolsCommand,
  toolsDiffCommand,
  toolsApproveCommand,
];
