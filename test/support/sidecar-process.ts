import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { hashApiKey } from '../../sidecar/src/authn/index.ts';
import { formatIssues, validateConfig } from '../../sidecar/src/config/load.ts';
import type { SidecarConfig } from '../../sidecar/src/contract/config.ts';
import { freePort } from '../../sidecar/src/quickstart/everything.ts';
import { type Child, type Output, startChild } from './child-process.ts';
import { type Rule, rawConfig } from './harness.ts';

// The sidecar as a user runs it: `node sidecar/src/main.ts --config FILE` as a child process, with a
// YAML file written for the test, on free loopback ports. Tests and benchmarks start every sidecar
// process here (the in-process sidecar is harness.ts's sidecarFor).

const ROOT = new URL('../../', import.meta.url).pathname;

export interface SidecarProcessOptions {
  /** A folder the caller owns for the config file; otherwise a fresh one, removed by close(). */
  readonly dir?: string;
  /** The config file's name without `.yaml` (default `sidecar`). */
  readonly name?: string;
  /** Environment on top of this process's (whose OTEL_* are left out: the config's telemetry counts). */
  readonly env?: Readonly<Record<string, string>>;
  /** pino level of the sidecar's own log (default warn). */
  readonly logLevel?: string;
  /** Where standard output (the stdout audit sink's copy and pino's lines) goes; default kept. */
  readonly stdout?: Output;
  /** Node flags and the script to run instead of sidecar/src/main.ts (benchmarks' own entry). */
  readonly entry?: readonly string[];
  /** Arguments after `--config FILE`. */
  readonly args?: readonly string[];
  /** How long close() waits after SIGTERM (the sidecar flushes its sinks) before SIGKILL. */
  readonly graceMs?: number;
}

export interface SidecarProcess {
  readonly url: string;
  readonly adminUrl: string;
  readonly pid: number;
  readonly child: Child;
  /** The configuration file it reads (rewrite it to reload, as the kubelet does with a ConfigMap). */
  readonly configFile: string;
  /** The last of the sidecar's output (logs and audit events), for failure messages. */
  output(): string;
  /** Everything written to standard output so far (its file's text, or the kept tail). */
  stdout(): string;
  /** The sidecar's own log lines (JSON objects without an audit schema) on standard output. */
  logLines(): Array<{ level: number; msg: string; err?: { message?: string; code?: string } }>;
  /** Sum of the samples of one metric on the admin port whose labels include `labels`. */
  metric(name: string, labels?: Record<string, string>): Promise<number>;
  /** SIGTERM, SIGKILL after the grace period. */
  close(): Promise<void>;
}

/** Starts a sidecar on `config`, its listen and admin addresses (and canonical URI) set to free ports. */
export async function startSidecarProcess(
  config: SidecarConfig,
  opts: SidecarProcessOptions = {},
): Promise<SidecarProcess> {
  const [port, adminPort] = [await freePort(), await freePort()];
  return spawnSidecar(
    {
      ...config,
      server: { ...config.server, canonicalUri: `http://127.0.0.1:${port}/mcp` },
      listen: { host: '127.0.0.1', port, path: '/mcp' },
      admin: { host: '127.0.0.1', port: adminPort },
    },
    opts,
  );
}

/** Starts a sidecar on `config` as the test wrote it whole (listen and admin on loopback ports). */
export async function spawnSidecar(
  config: SidecarConfig,
  opts: SidecarProcessOptions = {},
): Promise<SidecarProcess> {
  // Fail here with the path of the fault rather than as a child that exits with code 2.
  const checked = validateConfig(config);
  if (!checked.ok) throw new Error(`test configuration invalid: ${formatIssues(checked.issues)}`);
  const dir = opts.dir ?? (await mkdtemp(join(tmpdir(), 'portcullis-sidecar-')));
  const configFile = join(dir, `${opts.name ?? 'sidecar'}.yaml`);
  await writeFile(configFile, stringify(config));

  const inherited = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('OTEL_')));
  const stdoutTo = opts.stdout ?? 'keep';
  const child = startChild(
    'sidecar',
    process.execPath,
    [...(opts.entry ?? ['sidecar/src/main.ts']), '--config', configFile, ...(opts.args ?? [])],
    {
      cwd: ROOT,
      env: { ...inherited, LOG_LEVEL: opts.logLevel ?? 'warn', ...opts.env },
      stdout: stdoutTo,
    },
  );
  const close = async () => {
    await child.stop(opts.graceMs);
    if (opts.dir === undefined) await rm(dir, { recursive: true, force: true });
  };
  const adminUrl = `http://127.0.0.1:${config.admin?.port}`;
  try {
    await child.waitUntilServing(`${adminUrl}/readyz`);
  } catch (err) {
    await close();
    throw err;
  }
  const stdout = () =>
    typeof stdoutTo !== 'object'
      ? child.output()
      : existsSync(stdoutTo.file)
        ? readFileSync(stdoutTo.file, 'utf8')
        : '';
  return {
    url: `http://127.0.0.1:${config.listen.port}${config.listen.path}`,
    adminUrl,
    pid: child.pid,
    child,
    configFile,
    output: child.output,
    stdout,
    logLines: () =>
      stdout()
        .split('\n')
        .filter((l) => l.startsWith('{') && !l.includes('"schema":"portcullis.dev/audit/'))
        .map((l) => JSON.parse(l)),
    async metric(name, labels = {}) {
      const text = await (await fetch(`${adminUrl}/metrics`)).text();
      return sumSamples(text, name, labels);
    },
    close,
  };
}

/** Sums the Prometheus text-format samples of `name` whose labels include all of `labels`. */
export function sumSamples(text: string, name: string, labels: Record<string, string>): number {
  let sum = 0;
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${name}{`) && !line.startsWith(`${name} `)) continue;
    const brace = line.indexOf('{');
    const labelText = brace === -1 ? '' : line.slice(brace + 1, line.lastIndexOf('}'));
    const have = new Map([...labelText.matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)].map((m) => [m[1], m[2]]));
    if (Object.entries(labels).every(([k, v]) => have.get(k) === v)) {
      sum += Number(line.slice(line.lastIndexOf(' ') + 1));
    }
  }
  return sum;
}

/** The upstream as the config names it; timeouts get defaults. */
export type UpstreamInput =
  | { readonly transport: 'streamable-http' | 'sse'; readonly url: string }
  | { readonly transport: 'stdio'; readonly command: string; readonly args: readonly string[] };

/** A configuration in a few lines: the upstream, anonymous access, API keys in clear, the rules. */
export interface CompactConfig {
  readonly upstream: UpstreamInput;
  readonly allowAnonymous: boolean;
  /** API keys by id: the key itself, its subject and groups. */
  readonly apiKeys?: readonly { id: string; key: string; subject: string; groups: string[] }[];
  readonly rules: readonly Rule[];
}

export function compactConfig(input: CompactConfig): SidecarConfig {
  return rawConfig({
    upstream: upstreamConfig(input.upstream),
    rules: [...input.rules],
    authentication: {
      allowAnonymous: input.allowAnonymous,
      apiKeys: (input.apiKeys ?? []).map((k) => ({
        id: k.id,
        sha256: hashApiKey(k.key),
        subject: k.subject,
        groups: k.groups,
      })),
    },
  });
}

function upstreamConfig(up: UpstreamInput): SidecarConfig['upstream'] {
  const timeouts = { connectTimeoutMs: 5000, requestTimeoutMs: 60_000 };
  // The conformance suite opens a session per scenario and ends none: room for all of them at once.
  const processes = {
    mode: 'per-session' as const,
    maxProcesses: 64,
    warm: 0,
    idleTimeoutMs: 600_000,
    stopGraceMs: 5_000,
  };
  return up.transport === 'stdio'
    ? { transport: 'stdio', command: up.command, args: [...up.args], processes, ...timeouts }
    : { transport: up.transport, url: up.url, ...timeouts };
}
