import { type Command, UsageError } from '../shared/command.ts';
import { EXIT } from '../shared/output.ts';
import { diffLines, keyOfArgument, pinKeyOf } from './pins-view.ts';
import { readPins } from './read.ts';

// `kubectl portcullis tools diff SERVER [NAME...]`: what a reviewer approves: both digests, each
// changed member (down into schemas) and any hidden Unicode. Without names: every definition that is
// held or drifted.

export const toolsDiffCommand: Command = {
  name: 'tools diff',
  summary: 'The diff of held definitions, for review before approving.',
  usage: [
    'tools diff SERVER [NAME...]',
    '',
    'NAME is a tool name, or prompt/NAME, resourceTemplate/URI-TEMPLATE, instructions.',
    'Without NAME: every held or drifted definition.',
  ].join('\n'),
  options: {},
  async run({ positionals, out, kube }) {
    const { view, names } = await readPins(await kube(), positionals);
    const byKey = new Map(view.definitions.map((d) => [pinKeyOf(d), d]));
    const chosen =
      names.length > 0
        ? names.map((n) => {
            const d = byKey.get(keyOfArgument(n));
            if (d === undefined)
              throw new UsageError(`${keyOfArgument(n)} is not among the definitions the sidecars report`);
            return d;
          })
        : view.definitions.filter((d) => d.reason !== undefined);
    if (chosen.length === 0) out.out('Nothing is held: every definition matches its pin.');
    for (const d of chosen) for (const line of diffLines(d)) out.out(line);
    return EXIT.ok;
  },
};
