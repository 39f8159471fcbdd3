import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { formatIssues, validateConfig } from '../../sidecar/src/config/load.ts';
import { CONFIG_API_VERSION, type SidecarConfig } from '../../sidecar/src/contract/config.ts';
import { freePort } from '../../sidecar/src/quickstart/everything.ts';
import { stopChild, waitUntilServing } from './child-process.ts';

// The sidecar as a user runs it: `node sidecar/src/main.ts --config FILE` as a child process, with a
// YAML file written for the test, in front of an upstream the test started.

export type Rule = SidecarConfig['authorization']['rules'][number];

/** The upstream as the config names it; timeouts get defaults. */
export type UpstreamInput =
  | { readonly transport: 'streamable-http' | 'sse'; readonly url: string }
  | { readonly transport: 'stdio'; readonly command: string; readonly args: readonly string[] };

export interface SidecarProcessInput {
  readonly upstream: UpstreamInput;
  readonly allowAnonymous: boolean;
  /** API keys by id: the key itself, its subject and groups. */
  readonly apiKeys?: readonly { id: string; key: string; subject: string; groups: string[] }[];
  readonly rules: readonly Rule[];
}

export interface SidecarProcess {
  readonly url: string;
  readonly adminUrl: string;
  /** The last of the sidecar's output (logs and audit events), for failure messages. */
  output(): string;
  close(): Promise<void>;
}

export function rule(name: string, fields: Omit<Rule, 'policy' | 'name'>): Rule {
  return { policy: 'conformance/test', name, ...fields };
}

export function sidecarConfig(input: SidecarProcessInput, port: number, adminPort: number): SidecarConfig {
  return {
    apiVersion: CONFIG_API_VERSION,
    kind: 'SidecarConfig',
    server: { name: 'conformance', canonicalUri: `http://127.0.0.1:${port}/mcp` },
    listen: { host: '127.0.0.1', port, path: '/mcp' },
    admin: { host: '127.0.0.1', port: adminPort },
    upstream: upstreamConfig(input.upstream),
    authentication: {
      allowAnonymous: input.allowAnonymous,
      apiKeys: (input.apiKeys ?? []).map((k) => ({
        id: k.id,
        sha256: createHash('sha256').update(k.key).digest('hex'),
        subject: k.subject,
        groups: k.groups,
      })),
    },
    authorization: { rules: [...input.rules] },
  };
}

function upstreamConfig(up: UpstreamInput): SidecarConfig['upstream'] {
  const timeouts = { connectTimeoutMs: 5000, requestTimeoutMs: 60_000 };
  // The suite opens a session per scenario and ends none: room for all of them at once.
  const processes = { maxProcesses: 64, warm: 0, idleTimeoutMs: 600_000, stopGraceMs: 5_000 };
  return up.transport === 'stdio'
    ? { transport: 'stdio', command: up.command, args: [...up.args], processes, ...timeouts }
    : { transport: up.transport, url: up.url, ...timeouts };
}

export async function startSidecarProcess(input: SidecarProcessInput): Promise<SidecarProcess> {
  const [port, adminPort] = [await freePort(), await freePort()];
  const config = sidecarConfig(input, port, adminPort);
  // Fail here with the path of the fault rather than as a child that exits with code 2.
  const checked = validateConfig(config);
  if (!checked.ok) throw new Error(`test configuration invalid: ${formatIssues(checked.issues)}`);
  const dir = await mkdtemp(join(tmpdir(), 'portcullis-sidecar-'));
  const file = join(dir, 'sidecar.yaml');
  await writeFile(file, stringify(config));
  const child = spawn(process.execPath, ['sidecar/src/main.ts', '--config', file], {
    cwd: new URL('../../', import.meta.url).pathname,
    env: { ...process.env, LOG_LEVEL: 'warn' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const keep = (chunk: Buffer) => {
    output = (output + chunk.toString()).slice(-20_000);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  const killChild = () => child.kill('SIGKILL');
  process.once('exit', killChild);
  const close = async () => {
    await stopChild(child);
    process.off('exit', killChild);
    await rm(dir, { recursive: true, force: true });
  };
  const adminUrl = `http://127.0.0.1:${adminPort}`;
  try {
    await waitUntilServing(child, `${adminUrl}/readyz`, () => output);
  } catch (err) {
    await close();
    throw err;
  }
  return { url: `http://127.0.0.1:${port}/mcp`, adminUrl, output: () => output, close };
}
