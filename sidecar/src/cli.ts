import { parseArgs } from 'node:util';

// The command lines of the sidecar (main.ts) and the quick start (quickstart/main.ts): each a table of
// flags and of the environment variables it reads, so the parser and the --help text cannot disagree.
// Pure: the entry points do the printing and exiting (run-process.ts).

export interface Flag {
  readonly type: 'string' | 'boolean';
  readonly short?: string;
  /** Placeholder for the value in the usage line (string flags). */
  readonly value?: string;
  readonly help: string;
}

export interface Command {
  /** The program's name in error messages. */
  readonly name: string;
  readonly synopsis: string;
  readonly about: string;
  readonly flags: Readonly<Record<string, Flag>>;
  readonly env: readonly (readonly [name: string, help: string])[];
  readonly footer?: string;
}

export const HELP_FLAG = {
  type: 'boolean',
  short: 'h',
  help: 'Print this help and exit.',
} as const satisfies Flag;

/** What every Node entry point reads; each command adds its own. */
export const COMMON_ENV: Command['env'] = [
  ['LOG_LEVEL', 'pino log level: fatal, error, warn, info (default), debug, trace.'],
  ['PATH', 'Where stdio server commands and util-linux setpriv (children die with the sidecar) are found.'],
];

export const SIDECAR_COMMAND = {
  name: 'portcullis-sidecar',
  synopsis: 'node sidecar/src/main.ts --config FILE [--help]',
  about: 'Portcullis sidecar: an authenticating, authorizing, auditing MCP proxy.',
  flags: {
    config: {
      type: 'string',
      short: 'c',
      value: 'FILE',
      help: 'Sidecar configuration (YAML or JSON); watched and reloaded. Required (npm start: the quick start).',
    },
    help: HELP_FLAG,
  },
  env: [
    ...COMMON_ENV,
    ['POD_NAME', 'Instance id in audit events and spans (default: host name and process id).'],
    ['OTEL_SDK_DISABLED', 'true turns trace export off.'],
    ['OTEL_SERVICE_NAME', "service.name of spans (default 'portcullis-sidecar')."],
    [
      'OTEL_EXPORTER_OTLP_ENDPOINT',
      'OTLP/HTTP collector for traces and the otlp audit sink; traces are exported only when it is set.',
    ],
    ['OTEL_EXPORTER_OTLP_TRACES_ENDPOINT', 'OTLP/HTTP endpoint for traces alone (also turns traces on).'],
    ['OTEL_EXPORTER_OTLP_PROTOCOL', 'http/protobuf (default) or http/json.'],
    ['OTEL_TRACES_EXPORTER', 'otlp, console or none; set to otlp or console, it turns traces on.'],
    ['OTEL_TRACES_SAMPLER', 'Sampler name, with OTEL_TRACES_SAMPLER_ARG; other OTEL_* variables apply too.'],
    ['OTEL_RESOURCE_ATTRIBUTES', 'Extra resource attributes of spans.'],
  ],
  footer:
    'Configuration files may name further variables (valueFrom.env) for upstream credentials and audit sinks.',
} as const satisfies Command;

export type CliResult<V> =
  | { readonly kind: 'run'; readonly values: V }
  | { readonly kind: 'help'; readonly text: string }
  | { readonly kind: 'error'; readonly message: string };

/** The flags' values, the help text (--help), or what was wrong. */
export function parseCommand(
  command: Command,
  argv: readonly string[],
): CliResult<Record<string, string | boolean | undefined>> {
  let values: Record<string, string | boolean | undefined>;
  try {
    ({ values } = parseArgs({
      args: [...argv],
      options: command.flags,
      strict: true,
      allowPositionals: false,
    }));
  } catch (err) {
    return { kind: 'error', message: `${(err as Error).message}\nRun with --help for the flags.` };
  }
  if (values.help === true) return { kind: 'help', text: formatUsage(command) };
  return { kind: 'run', values };
}

/** The sidecar's command line: --config is required. */
export function parseCli(argv: readonly string[]): CliResult<{ readonly config: string }> {
  const result = parseCommand(SIDECAR_COMMAND, argv);
  if (result.kind !== 'run') return result;
  const config = result.values.config;
  if (typeof config !== 'string')
    return {
      kind: 'error',
      message: '--config FILE is required (npm start runs the quick start).\nRun with --help for the flags.',
    };
  return { kind: 'run', values: { config } };
}

/** One line per flag and per variable, aligned; shared shape with the operator's usage text. */
export function formatUsage(u: Command): string {
  const flagCols = Object.entries(u.flags).map(([name, f]) => {
    const short = f.short === undefined ? '    ' : `-${f.short}, `;
    const value = f.type === 'string' ? ` ${f.value ?? 'VALUE'}` : '';
    return [`${short}--${name}${value}`, f.help] as const;
  });
  const width = Math.max(...[...flagCols, ...u.env].map(([left]) => left.length)) + 2;
  const line = ([left, help]: readonly [string, string]) => `  ${left.padEnd(width)}${help}`;
  return [
    `Usage: ${u.synopsis}`,
    '',
    u.about,
    '',
    'Flags:',
    ...flagCols.map(line),
    '',
    'Environment:',
    ...u.env.map(line),
    ...(u.footer === undefined ? [] : ['', u.footer]),
    '',
  ].join('\n');
}
