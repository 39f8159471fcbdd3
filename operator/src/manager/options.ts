import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { parseArgs } from 'node:util';
import { parse as parseYaml } from 'yaml';
import { type OperatorDefaults, parseOperatorDefaults } from '../api/operator-defaults.ts';

// The operator's configuration from flags (and the environment Kubernetes gives a pod), validated
// once at start; a fault stops the process with the flag that caused it.

export interface OperatorOptions {
  kubeconfig: string | undefined;
  /** Namespaces to watch; undefined: every namespace (cluster-wide mode). */
  namespaces: string[] | undefined;
  defaults: OperatorDefaults;
  leaderElection: { enabled: boolean; namespace: string; name: string; leaseDurationSeconds: number };
  identity: string;
  health: { host: string; port: number };
  workers: number;
  /** Every server is looked at again this often, even without events. */
  resyncSeconds: number;
  logLevel: string;
}

export class OptionsError extends Error {
  readonly code = 'OPERATOR_OPTIONS_INVALID';
}

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

function int(flag: string, value: string, min: number, max: number): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < min || n > max) {
    throw new OptionsError(`--${flag}: expected an integer from ${min} to ${max}, got '${value}'`);
  }
  return n;
}

export function parseOptions(argv: readonly string[], env: NodeJS.ProcessEnv): OperatorOptions {
  const { values } = parseArgs({
    args: [...argv],
    strict: true,
    options: {
      kubeconfig: { type: 'string' },
      namespaces: { type: 'string' },
      defaults: { type: 'string' },
      'sidecar-image': { type: 'string' },
      'leader-elect': { type: 'string', default: 'true' },
      'lease-namespace': { type: 'string' },
      'lease-name': { type: 'string', default: 'portcullis-operator' },
      'lease-duration': { type: 'string', default: '15' },
      identity: { type: 'string' },
      'health-addr': { type: 'string', default: '0.0.0.0:8081' },
      workers: { type: 'string', default: '8' },
      'resync-seconds': { type: 'string', default: '600' },
      'log-level': { type: 'string', default: env.LOG_LEVEL ?? 'info' },
    },
  });

  const nsList = (values.namespaces ?? env.PORTCULLIS_NAMESPACES ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  for (const ns of nsList)
    if (!DNS_LABEL.test(ns)) throw new OptionsError(`--namespaces: '${ns}' is not a namespace name`);

  const defaultsFile = values.defaults ?? env.PORTCULLIS_DEFAULTS_FILE;
  let raw: Record<string, unknown> = {};
  if (defaultsFile) {
    try {
      raw = (parseYaml(readFileSync(defaultsFile, 'utf8')) ?? {}) as Record<string, unknown>;
    } catch (err) {
      throw new OptionsError(`--defaults: cannot read ${defaultsFile}: ${(err as Error).message}`);
    }
  }
  const sidecarImage = values['sidecar-image'] ?? env.PORTCULLIS_SIDECAR_IMAGE;
  if (sidecarImage)
    raw = { ...raw, sidecar: { ...(raw.sidecar as object | undefined), image: sidecarImage } };
  let defaults: OperatorDefaults;
  try {
    defaults = parseOperatorDefaults(raw);
  } catch (err) {
    throw new OptionsError(`--defaults/--sidecar-image: ${(err as Error).message}`);
  }

  const leaderElect = values['leader-elect'];
  if (leaderElect !== 'true' && leaderElect !== 'false') {
    throw new OptionsError(`--leader-elect: expected true or false, got '${leaderElect}'`);
  }
  const leaseNamespace = values['lease-namespace'] ?? env.POD_NAMESPACE ?? nsList[0] ?? 'portcullis-system';
  if (!DNS_LABEL.test(leaseNamespace))
    throw new OptionsError(`--lease-namespace: '${leaseNamespace}' is not valid`);

  const addr = values['health-addr'] ?? '';
  const colon = addr.lastIndexOf(':');
  if (colon < 0) throw new OptionsError(`--health-addr: expected host:port, got '${addr}'`);

  return {
    kubeconfig: values.kubeconfig ?? env.KUBECONFIG,
    namespaces: nsList.length > 0 ? nsList : undefined,
    defaults,
    leaderElection: {
      enabled: leaderElect === 'true',
      namespace: leaseNamespace,
      name: values['lease-name'] ?? 'portcullis-operator',
      leaseDurationSeconds: int('lease-duration', values['lease-duration'] ?? '15', 2, 300),
    },
    identity: values.identity ?? env.POD_NAME ?? `${hostname()}-${process.pid}`,
    health: {
      host: addr.slice(0, colon) || '0.0.0.0',
      port: int('health-addr', addr.slice(colon + 1), 0, 65535),
    },
    workers: int('workers', values.workers ?? '8', 1, 64),
    resyncSeconds: int('resync-seconds', values['resync-seconds'] ?? '600', 0, 86_400),
    logLevel: values['log-level'] ?? 'info',
  };
}
