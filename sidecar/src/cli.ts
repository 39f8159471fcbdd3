import { parseArgs } from 'node:util';

// The sidecar's command line: one table of flags and the environment variables it reads, so the
// parser and the --help text cannot disagree. Pure: main.ts does the printing and exiting.

interface Flag {
  readonly type: 'string' | 'boolean';
  readonly short?: string;
  /** Placeholder for the value in the usage line (string flags). */
  readonly value?: string;
  readonly help: string;
}

export const SIDECAR_FLAGS = {
  config: {
    type: 'string',
    short: 'c',
    value: 'FILE',
    help: 'Sidecar configuration (YAML or JSON); watched and reloaded. Without it: the quick start.',
  },
  stdio: {
    type: 'boolean',
    help: 'Quick start only: run the everything server as a stdio child instead of over HTTP.',
  },
  help: { type: 'boolean', short: 'h', help: 'Print this help and exit.' },
} as const satisfies Record<string, Flag>;

export const SIDECAR_ENV: readonly (readonly [name: string, help: string])[] = [
  ['LOG_LEVEL', 'pino log level: fatal, error, warn, info (default), debug, trace.'],
  ['PATH', 'Where stdio server commands and util-linux setpriv (children die with the sidecar) are found.'],
  ['POD_NAME', 'Instance id in audit events and spans (default: host name and process id).'],
  ['PORT', 'Quick start only: MCP port (default 8080).'],
  ['ADMIN_PORT', 'Quick start only: admin port for /metrics and health (default 9090).'],
  ['PORTCULLIS_API_KEY', 'Quick start only: the API key to accept (default: a random one, printed).'],
  ['OTEL_SDK_DISABLED', 'true turns trace export off.'],
  ['OTEL_SERVICE_NAME', "service.name of spans (default 'portcullis-sidecar')."],
  ['OTEL_EXPORTER_OTLP_ENDPOINT', 'OTLP/HTTP collector for traces and the otlp audit sink.'],
  ['OTEL_EXPORTER_OTLP_PROTOCOL', 'http/protobuf (default) or http/json.'],
  ['OTEL_TRACES_EXPORTER', 'otlp (default), console or none.'],
  ['OTEL_TRACES_SAMPLER', 'Sampler name, with OTEL_TRACES_SAMPLER_ARG; other OTEL_* variables apply too.'],
  ['OTEL_RESOURCE_ATTRIBUTES', 'Extra resource attributes of spans.'],
];

export type CliResult =
  | { readonly kind: 'run'; readonly config: string | undefined; readonly stdio: boolean }
  | { readonly kind: 'help'; readonly text: string }
  | { readonly kind: 'error'; readonly message: string };

export function parseCli(argv: readonly string[]): CliResult {
  let values: { config?: string; stdio?: boolean; help?: boolean };
  try {
    ({ values } = parseArgs({
      args: [...argv],
      options: SIDECAR_FLAGS,
      strict: true,
      allowPositionals: false,
    }));
  } catch (err) {
    return { kind: 'error', message: `${(err as Error).message}\nRun with --help for the flags.` };
  }
  if (values.help === true) return { kind: 'help', text: usage() };
  return { kind: 'run', config: values.config, stdio: values.stdio === true };
}

export function usage(): string {
  return formatUsage({
    synopsis: 'node sidecar/src/main.ts [--config FILE] [--stdio] [--help]',
    about: 'Portcullis sidecar: an authenticating, authorizing, auditing MCP proxy.',
    flags: SIDECAR_FLAGS,
    env: SIDECAR_ENV,
    footer:
      'Configuration files may name further variables (valueFrom.env) for upstream credentials and audit sinks.',
  });
}

/** One line per flag and per variable, aligned; shared shape with the operator's usage text. */
export function formatUsage(u: {
  synopsis: string;
  about: string;
  flags: Readonly<Record<string, Flag>>;
  env: readonly (readonly [string, string])[];
  footer?: string;
}): string {
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
