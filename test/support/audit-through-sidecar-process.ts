import { spawn } from 'node:child_process';
import { closeSync, existsSync, openSync, readFileSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { formatIssues, validateConfig } from '../../sidecar/src/config/load.ts';
import type { AuditConfig } from '../../sidecar/src/contract/audit.ts';
import { freePort } from '../../sidecar/src/quickstart/everything.ts';
import { stopChild, waitUntilServing } from './child-process.ts';
import { type Rule, rawConfig } from './harness.ts';

// The sidecar as it is deployed, for audit tests: `node sidecar/src/main.ts --config FILE` as a child
// process with the audit section under test, its standard output going straight to a file (the
// stdout sink's copy of the trail, next to pino's log lines), its admin port scraped for /metrics.

export interface AuditedSidecarInput {
  /** A directory the test owns: the config file and the captured stdout go there. */
  readonly dir: string;
  readonly upstreamUrl: string;
  readonly rules: Rule[];
  readonly audit: AuditConfig;
  /** The McpServer's namespace (server.namespace); none by default. */
  readonly namespace?: string;
  /** Extra environment (sink secrets). */
  readonly env?: Record<string, string>;
  /** pino level of the sidecar's own log (default warn). */
  readonly logLevel?: string;
}

export interface AuditedSidecar {
  readonly url: string;
  readonly adminUrl: string;
  readonly pid: number;
  /** Everything the sidecar wrote to standard output so far (audit NDJSON and log lines). */
  stdout(): string;
  /** The sidecar's log lines (JSON objects without an audit schema) from stdout. */
  logLines(): Array<{ level: number; msg: string; err?: { message?: string; code?: string } }>;
  /** Sum of the samples of one metric whose labels include `labels`. */
  metric(name: string, labels?: Record<string, string>): Promise<number>;
  /** SIGTERM (the sidecar flushes its sinks), SIGKILL after 15 s. */
  close(): Promise<void>;
}

export async function startAuditedSidecar(input: AuditedSidecarInput): Promise<AuditedSidecar> {
  const [port, adminPort] = [await freePort(), await freePort()];
  const raw = rawConfig({
    upstream: { transport: 'streamable-http', url: input.upstreamUrl },
    rules: input.rules,
    audit: input.audit,
    canonicalUri: `http://127.0.0.1:${port}/mcp`,
  });
  const config = {
    ...raw,
    server: input.namespace === undefined ? raw.server : { ...raw.server, namespace: input.namespace },
    listen: { host: '127.0.0.1', port, path: '/mcp' },
    admin: { host: '127.0.0.1', port: adminPort },
    // Spans have nowhere to go here; exporting them would only cost CPU the audit sinks need.
    telemetry: { tracing: { enabled: false } },
  };
  const checked = validateConfig(config);
  if (!checked.ok) throw new Error(`test configuration invalid: ${formatIssues(checked.issues)}`);
  const file = join(input.dir, 'sidecar.yaml');
  await writeFile(file, stringify(config));
  const stdoutFile = join(input.dir, 'sidecar.stdout');
  const out = openSync(stdoutFile, 'a');
  // No OTEL_* from the test's environment: the OTLP sink's endpoint is the config's.
  const env: Record<string, string | undefined> = Object.fromEntries(
    Object.entries(process.env).filter(([k]) => !k.startsWith('OTEL_')),
  );
  const child = spawn(process.execPath, ['sidecar/src/main.ts', '--config', file], {
    cwd: new URL('../../', import.meta.url).pathname,
    env: { ...env, ...input.env, LOG_LEVEL: input.logLevel ?? 'warn' },
    stdio: ['ignore', out, 'pipe'],
  });
  closeSync(out);
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr = (stderr + chunk.toString()).slice(-20_000);
  });
  const killChild = () => child.kill('SIGKILL');
  process.once('exit', killChild);

  const stdout = () => (existsSync(stdoutFile) ? readFileSync(stdoutFile, 'utf8') : '');
  const adminUrl = `http://127.0.0.1:${adminPort}`;
  const close = async () => {
    await stopChild(child, 15_000);
    process.off('exit', killChild);
  };
  try {
    await waitUntilServing(child, `${adminUrl}/readyz`, () => `${stdout().slice(-10_000)}\n${stderr}`);
  } catch (err) {
    await close();
    throw err;
  }
  return {
    url: `http://127.0.0.1:${port}/mcp`,
    adminUrl,
    pid: child.pid as number,
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
