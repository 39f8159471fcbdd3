import type { McpServer } from '../../api/mcp-server.ts';
import type { KubeObject } from '../../kube/object.ts';
import { type Command, UsageError } from '../shared/command.ts';
import { EXIT } from '../shared/output.ts';
import { approve, keyOfArgument, pinKeyOf } from './pins-view.ts';
import { readPins } from './read.ts';

// `kubectl portcullis tools approve SERVER [NAME...]`: writes spec.tools.pins, the approved digests,
// from what the server's sidecars observe now. The McpServer is replaced with the resourceVersion it
// was read at, so an approval never overwrites a concurrent edit (it fails, and is run again).
// Definitions with hidden Unicode are approved only with --include-suspicious; --digest makes sure
// the definition approved is the one that was reviewed.

const FIELD_MANAGER = 'kubectl-portcullis';

export const toolsApproveCommand: Command = {
  name: 'tools approve',
  summary: 'Approve definitions: write their digests to spec.tools.pins.',
  usage: [
    'tools approve SERVER [NAME...] [--digest sha256:...] [--include-suspicious]',
    '',
    'NAME is a tool name, or prompt/NAME, resourceTemplate/URI-TEMPLATE, instructions. Without NAME:',
    'every definition the sidecars report that is not approved at its current digest, except those',
    'with hidden Unicode. The operator renders the pins into the sidecars; held definitions return.',
    '',
    'Flags:',
    '  --digest D             Approve only if the one NAME is observed at digest D (the one reviewed).',
    '  --include-suspicious   Also approve definitions with invisible or bidirectional Unicode.',
  ].join('\n'),
  options: {
    digest: { type: 'string' },
    'include-suspicious': { type: 'boolean' },
  },
  async run({ values, positionals, out, kube }) {
    const k = await kube();
    const { server, view, names } = await readPins(k, positionals);
    const digest = values.digest;
    if (typeof digest === 'string') {
      if (names.length !== 1) throw new UsageError('--digest needs exactly one NAME');
      const seen = view.definitions.find((d) => pinKeyOf(d) === keyOfArgument(names[0] as string));
      if (seen !== undefined && seen.digest !== digest) {
        out.err(`${pinKeyOf(seen)} is now at ${seen.digest}, not ${digest}: it changed since the review`);
        return EXIT.no;
      }
    }
    const result = approve(view, server.spec.tools?.pins ?? [], names, {
      includeSuspicious: values['include-suspicious'] === true,
    });
    if (!result.ok) {
      out.err(result.message);
      return EXIT.no;
    }
    for (const d of result.skipped)
      out.err(
        `skipped ${pinKeyOf(d)}: hidden Unicode; review it with 'tools diff' and pass --include-suspicious`,
      );
    if (result.approved.length === 0) {
      out.out('Nothing to approve.');
      return EXIT.ok;
    }
    const updated: McpServer & KubeObject = {
      ...(server as McpServer & KubeObject),
      spec: { ...server.spec, tools: { ...server.spec.tools, pins: result.pins } },
    };
    await k.client.update(updated, { fieldManager: FIELD_MANAGER });
    for (const d of result.approved) out.out(`approved ${pinKeyOf(d)} ${d.digest}`);
    return EXIT.ok;
  },
};
