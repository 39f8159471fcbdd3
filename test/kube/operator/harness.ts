import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { createWriteStream } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { inject } from 'vitest';
import { parseOptions } from '../../../operator/src/manager/options.ts';
import { type RunningOperator, runOperator } from '../../../operator/src/manager/run.ts';
import { eventually, kubectl, kubectlJson } from '../../support/kube.ts';

// Running the operator against the test control plane: in-process (fast, inspectable) or as a child
// process (so it can be killed for real). Logs go to a file per operator, named in failures.

export const SIDECAR_IMAGE = 'portcullis/sidecar:test';
const ROOT = new URL('../../../', import.meta.url).pathname;

export async function applyCrds(): Promise<void> {
  await kubectl(['apply', '--server-side', '--force-conflicts', '-f', join(ROOT, 'crds')]);
  // Right after creation a CRD has no conditions yet, and `kubectl wait` fails instead of waiting.
  await eventually('CRDs established', async () => {
    const crds = [
      'crd/mcpservers.portcullis.dev',
      'crd/mcppolicies.portcullis.dev',
      'crd/clustermcppolicies.portcullis.dev',
    ];
    await kubectl(['wait', '--for=condition=Established', '--timeout=30s', ...crds]);
    return true;
  });
}

async function logFile(name: string): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'portcullis-operator-'));
  return join(dir, `${name}.log`);
}

function flags(
  namespace: string,
  identity: string,
  extra: string[],
  kubeconfig = inject('kubeconfig'),
): string[] {
  return [
    '--kubeconfig',
    kubeconfig,
    '--namespaces',
    namespace,
    '--lease-namespace',
    namespace,
    '--identity',
    identity,
    '--health-addr',
    '127.0.0.1:0',
    '--sidecar-image',
    SIDECAR_IMAGE,
    '--workers',
    '4',
    ...extra,
  ];
}

export interface InProcessOperator extends RunningOperator {
  logPath: string;
}

export async function startOperator(
  namespace: string,
  identity = 'op-0',
  extra: string[] = [],
): Promise<InProcessOperator> {
  const logPath = await logFile(identity);
  const log = pino({ level: 'debug' }, createWriteStream(logPath));
  const options = parseOptions(flags(namespace, identity, extra), {});
  const running = await runOperator(options, { log });
  return Object.assign(running, { logPath });
}

export interface OperatorProcess {
  child: ChildProcess;
  logPath: string;
  kill(signal?: NodeJS.Signals): Promise<void>;
}

/** The real entry point in a child process (npm run start:operator), killable like a pod. */
export async function spawnOperator(
  namespace: string,
  identity: string,
  extra: string[] = [],
  /** Another control plane's (the chaos test runs its own). */
  kubeconfig?: string,
): Promise<OperatorProcess> {
  const logPath = await logFile(identity);
  const out = createWriteStream(logPath);
  const child = spawn(
    process.execPath,
    [join(ROOT, 'operator/src/main.ts'), ...flags(namespace, identity, extra, kubeconfig)],
    {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, LOG_LEVEL: 'debug' },
    },
  );
  child.stdout?.pipe(out);
  child.stderr?.pipe(out);
  return {
    child,
    logPath,
    kill: async (signal = 'SIGKILL') => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = once(child, 'exit');
      child.kill(signal);
      await exited;
    },
  };
}

export interface Condition {
  type: string;
  status: string;
  reason: string;
  message: string;
  lastTransitionTime: string;
}

export interface ServerView {
  metadata: { name: string; uid: string; generation: number; labels?: Record<string, string> };
  status?: {
    phase?: string;
    url?: string;
    observedGeneration?: number;
    policies?: string[];
    conditions?: Condition[];
  };
}

export function condition(
  obj: { status?: { conditions?: Condition[] } },
  type: string,
): Condition | undefined {
  return obj.status?.conditions?.find((c) => c.type === type);
}

export function getJson<T>(namespace: string, resource: string): Promise<T> {
  return kubectlJson<T>(['-n', namespace, 'get', resource]);
}

export async function exists(namespace: string, resource: string): Promise<boolean> {
  const out = await kubectl(['-n', namespace, 'get', resource, '--ignore-not-found', '-o', 'name']);
  return out.trim() !== '';
}

/** Waits for the McpServer to be Ready for its current generation. */
export function serverReady(namespace: string, name: string, timeoutMs = 60_000): Promise<ServerView> {
  return eventually(
    `McpServer ${namespace}/${name} Ready`,
    async () => {
      const s = await getJson<ServerView>(namespace, `mcpserver/${name}`);
      const ready = condition(s, 'Ready');
      return ready?.status === 'True' && s.status?.observedGeneration === s.metadata.generation
        ? s
        : undefined;
    },
    { timeoutMs },
  );
}

export function hostedServer(name: string, labels: Record<string, string> = {}, replicas = 1): string {
  return JSON.stringify({
    apiVersion: 'portcullis.dev/v1alpha1',
    kind: 'McpServer',
    metadata: { name, labels },
    spec: { hosted: { image: 'mcp/everything:latest', transport: 'streamable-http', port: 3001, replicas } },
  });
}

export function policyManifest(
  name: string,
  matchLabels: Record<string, string>,
  tools: string[],
  when?: string,
): string {
  return JSON.stringify({
    apiVersion: 'portcullis.dev/v1alpha1',
    kind: 'McpPolicy',
    metadata: { name },
    spec: {
      servers: { matchLabels },
      rules: [
        {
          name: 'r1',
          action: 'allow',
          subjects: [{ group: 'engineering' }],
          tools,
          ...(when ? { when } : {}),
        },
      ],
    },
  });
}

export function applyManifest(namespace: string, manifest: string): Promise<string> {
  return kubectl(['-n', namespace, 'apply', '-f', '-'], manifest);
}
