import { type ParseArgsOptionsConfig, parseArgs } from 'node:util';
import { type Command, UsageError } from './shared/command.ts';
import { openKube, type PluginKube } from './shared/kube.ts';
import { columns, EXIT, type Output } from './shared/output.ts';

// `kubectl portcullis WORDS... [flags]`: finds the command whose words start the command line (the
// longest such, so `tools diff` wins over `tools`), parses its flags with node:util's parseArgs and
// runs it. Help is built from the registry, so a new command documents itself.

const PROGRAM = 'kubectl portcullis';

const GLOBAL_OPTIONS: ParseArgsOptionsConfig = {
  kubeconfig: { type: 'string' },
  namespace: { type: 'string', short: 'n' },
  help: { type: 'boolean', short: 'h' },
};

const GLOBAL_HELP = [
  ['--kubeconfig FILE', 'Kubeconfig (default $KUBECONFIG, ~/.kube/config, then in-cluster).'],
  ['-n, --namespace NS', "Namespace (default the current context's, else default)."],
  ['-h, --help', 'Help for the command.'],
] as const;

const indent = (lines: string[]) => lines.map((l) => `  ${l}`);

export function pluginUsage(commands: readonly Command[]): string {
  return [
    `Usage: ${PROGRAM} COMMAND [flags]`,
    '',
    'Portcullis from the command line: test policies offline, ask what a caller may do.',
    '',
    'Commands:',
    ...indent(columns(commands.map((c) => [c.name, c.summary]))),
    '',
    'Global flags:',
    ...indent(columns(GLOBAL_HELP)),
    '',
    'Exit codes: 0 yes / done, 1 no (denied, a test failed), 2 error.',
    `Run '${PROGRAM} COMMAND --help' for a command's flags.`,
  ].join('\n');
}

function commandUsage(command: Command): string {
  return [`Usage: ${PROGRAM} ${command.usage}`, '', 'Global flags:', ...indent(columns(GLOBAL_HELP))].join(
    '\n',
  );
}

/** The command named by the leading words of argv (longest match), and the arguments after them. */
export function findCommand(
  commands: readonly Command[],
  argv: readonly string[],
): { command: Command; rest: string[] } | undefined {
  let best: { command: Command; words: number } | undefined;
  for (const command of commands) {
    const words = command.name.split(' ');
    if (words.every((w, i) => argv[i] === w) && words.length > (best?.words ?? 0)) {
      best = { command, words: words.length };
    }
  }
  return best && { command: best.command, rest: argv.slice(best.words) };
}

export async function dispatch(
  commands: readonly Command[],
  argv: readonly string[],
  out: Output,
): Promise<number> {
  const first = argv[0];
  if (first === undefined) {
    out.err(pluginUsage(commands));
    return EXIT.error;
  }
  if (first === 'help' || first === '--help' || first === '-h') {
    out.out(pluginUsage(commands));
    return EXIT.ok;
  }
  const found = findCommand(commands, argv);
  if (found === undefined) {
    out.err(`${PROGRAM}: unknown command '${argv.filter((a) => !a.startsWith('-')).join(' ')}'`);
    out.err(`Run '${PROGRAM} --help' for the commands.`);
    return EXIT.error;
  }
  const { command, rest } = found;
  let kube: PluginKube | undefined;
  try {
    const parsed = parseArgs({
      args: rest,
      options: { ...GLOBAL_OPTIONS, ...command.options },
      allowPositionals: true,
      strict: true,
    });
    if (parsed.values.help === true) {
      out.out(commandUsage(command));
      return EXIT.ok;
    }
    const { kubeconfig, namespace } = parsed.values;
    return await command.run({
      values: parsed.values,
      positionals: parsed.positionals,
      out,
      kube: async () => {
        kube ??= await openKube({
          kubeconfig: typeof kubeconfig === 'string' ? kubeconfig : undefined,
          namespace: typeof namespace === 'string' ? namespace : undefined,
        });
        return kube;
      },
    });
  } catch (err) {
    const usage =
      err instanceof UsageError || (err as { code?: string }).code?.startsWith('ERR_PARSE_ARGS') === true;
    out.err(`${PROGRAM} ${command.name}: ${(err as Error).message}`);
    if (usage) out.err(`Run '${PROGRAM} ${command.name} --help' for its flags.`);
    return EXIT.error;
  } finally {
    await kube?.close();
  }
}
