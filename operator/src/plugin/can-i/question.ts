import { UsageError } from '../shared/command.ts';
import type { CallKind } from '../shared/simulate.ts';

// The words of a can-i question, kubectl auth can-i style:
//   call TOOL on SERVER | read URI on SERVER | get PROMPT on SERVER | --all [call] on SERVER

export type Question =
  | { kind: CallKind; target: string; server: string }
  | { kind: 'all-tools'; server: string };

const VERBS: Readonly<Record<string, CallKind>> = { call: 'tool', read: 'resource', get: 'prompt' };

export function parseQuestion(words: readonly string[], all: boolean): Question {
  if (all) {
    const rest = words[0] === 'call' ? words.slice(1) : words;
    if (rest.length === 2 && rest[0] === 'on') return { kind: 'all-tools', server: rest[1] as string };
    throw new UsageError('with --all, ask: --all on SERVER');
  }
  const [verb, target, on, server, ...extra] = words;
  const kind = verb === undefined ? undefined : VERBS[verb];
  if (kind === undefined) throw new UsageError(`ask: call TOOL | read URI | get PROMPT, then on SERVER`);
  if (target === undefined || on !== 'on' || server === undefined || extra.length > 0) {
    throw new UsageError(`ask: ${verb} ${kind === 'resource' ? 'URI' : kind.toUpperCase()} on SERVER`);
  }
  return { kind, target, server };
}
