// The operator's --help text: every flag parseOptions (manager/options.ts) accepts and every
// environment variable the operator reads, one line each. test/integration/cli/ fails when a flag or
// variable of options.ts is missing here.

export const OPERATOR_FLAGS: readonly (readonly [flag: string, help: string])[] = [
  ['--kubeconfig FILE', 'Kubeconfig to use (default $KUBECONFIG, ~/.kube/config, then in-cluster).'],
  ['--namespaces NS[,NS...]', 'Watch only these namespaces (namespace-scoped mode); default: all.'],
  ['--defaults FILE', 'Cluster defaults (YAML): sidecar image, audit sinks, identity providers.'],
  ['--sidecar-image IMAGE', 'Sidecar image to inject; required unless the defaults file sets sidecar.image.'],
  ['--leader-elect true|false', 'Take part in leader election on a Lease (default true).'],
  [
    '--lease-namespace NS',
    'Namespace of the Lease (default $POD_NAMESPACE, first watched, portcullis-system).',
  ],
  ['--lease-name NAME', 'Name of the Lease (default portcullis-operator).'],
  ['--lease-duration SECONDS', 'Lease duration, 2 to 300 (default 15).'],
  ['--identity ID', 'Holder identity in the Lease (default $POD_NAME, else host name and pid).'],
  ['--health-addr HOST:PORT', 'Health, readiness and /metrics listener (default 0.0.0.0:8081).'],
  ['--workers N', 'Reconciles run in parallel, 1 to 64 (default 8).'],
  ['--resync-seconds N', 'Look at every server again this often, 0 to 86400; 0 turns it off (default 600).'],
  ['--log-level LEVEL', 'fatal, error, warn, info, debug, trace (default $LOG_LEVEL, else info).'],
  ['-h, --help', 'Print this help and exit.'],
];

export const OPERATOR_ENV: readonly (readonly [name: string, help: string])[] = [
  ['KUBECONFIG', 'Kubeconfig when --kubeconfig is not given (first file of the list).'],
  [
    'KUBERNETES_SERVICE_HOST',
    'In-cluster API server host (set by Kubernetes), with KUBERNETES_SERVICE_PORT.',
  ],
  ['KUBERNETES_SERVICE_PORT', 'In-cluster API server port (set by Kubernetes).'],
  ['PORTCULLIS_NAMESPACES', 'Same as --namespaces.'],
  ['PORTCULLIS_DEFAULTS_FILE', 'Same as --defaults.'],
  ['PORTCULLIS_SIDECAR_IMAGE', 'Same as --sidecar-image.'],
  ['POD_NAMESPACE', 'Default for --lease-namespace (downward API).'],
  ['POD_NAME', 'Default for --identity (downward API).'],
  ['LOG_LEVEL', 'Default for --log-level.'],
];

export function operatorUsage(): string {
  const width = Math.max(...[...OPERATOR_FLAGS, ...OPERATOR_ENV].map(([left]) => left.length)) + 2;
  const line = ([left, help]: readonly [string, string]) => `  ${left.padEnd(width)}${help}`;
  return [
    'Usage: node operator/src/main.ts [flags]',
    '',
    'Portcullis operator: renders McpServer and McpPolicy into hardened workloads with the sidecar.',
    'SIGTERM/SIGINT shut down gracefully; SIGHUP queues every object again (a resync).',
    '',
    'Flags:',
    ...OPERATOR_FLAGS.map(line),
    '',
    'Environment:',
    ...OPERATOR_ENV.map(line),
    '',
  ].join('\n');
}

/** --help anywhere before a `--` terminator; checked before parsing so it works with any other flag. */
export function wantsHelp(argv: readonly string[]): boolean {
  for (const arg of argv) {
    if (arg === '--') return false;
    if (arg === '--help' || arg === '-h') return true;
  }
  return false;
}
