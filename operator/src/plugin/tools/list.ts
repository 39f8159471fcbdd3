import type { Command } from '../shared/command.ts';
import { EXIT, table } from '../shared/output.ts';
import { rows } from './pins-view.ts';
import { readPins } from './read.ts';

// `kubectl portcullis tools SERVER`: every definition the server's sidecars report, held ones first,
// with why it is held, its digest and whether a person approved it (spec.tools.pins).

export const toolsCommand: Command = {
  name: 'tools',
  summary: "What a server's sidecars pinned, observe and hold.",
  usage: [
    'tools SERVER',
    '',
    "Lists the server's tools, prompts, resource templates and instructions as its sidecars see them:",
    'STATE pinned (matches its pin), held (hidden and refused) or observed (drift under Observe);',
    'APPROVED yes (spec.tools.pins has this digest), first use (trusted on first use), other, no.',
  ].join('\n'),
  options: {},
  async run({ positionals, out, kube }) {
    const { server, view } = await readPins(await kube(), positionals);
    out.out(
      `McpServer ${server.metadata.namespace}/${server.metadata.name}   mode ${view.mode}   ${view.reporters} sidecar(s) reporting`,
    );
    if (view.definitions.length === 0) {
      out.out(view.mode === 'Off' ? 'Pinning is Off.' : 'No sidecar has reported its definitions yet.');
      return EXIT.ok;
    }
    for (const line of table(['KIND', 'NAME', 'STATE', 'REASON', 'DIGEST', 'APPROVED'], rows(view)))
      out.out(line);
    return EXIT.ok;
  },
};
