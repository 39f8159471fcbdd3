import { readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import type { AuditSinkConfig } from '../../../sidecar/src/contract/audit.ts';
import { freePort } from '../../../sidecar/src/quickstart/everything.ts';
import { startChild } from '../../support/child-process.ts';
import { allow, rawConfig } from '../../support/harness.ts';

// The sidecar's entry point loads only what its configuration uses: the OpenTelemetry SDK when traces
// are exported, the OTLP logs exporter with an OTLP audit sink, the MCP SDK and the Kubernetes client
// only for stdio upstreams and pinning. Each of them is tens of MiB of a sidecar's memory
// (docs/performance.md#memory). A module-load hook in the real process lists every package it loaded.

const LAZY = [
  '@opentelemetry/sdk-node',
  '@opentelemetry/sdk-trace-base',
  '@opentelemetry/sdk-logs',
  '@opentelemetry/exporter-logs-otlp-http',
  '@opentelemetry/core',
  '@grpc/grpc-js',
  '@kubernetes/client-node',
  '@modelcontextprotocol/sdk',
  // Node's own copy of undici (global fetch, WebSocket), which an ES import of node:http loads.
  'node:internal/deps/undici',
];

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'portcullis-lazy-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** The packages a sidecar loaded by the time it was ready, under this configuration and environment. */
async function packagesLoaded(sinks: AuditSinkConfig[], env: Record<string, string>): Promise<Set<string>> {
  const [port, adminPort] = [await freePort(), await freePort()];
  const cfg = rawConfig({
    upstream: { transport: 'streamable-http', url: 'http://127.0.0.1:9/mcp' },
    rules: [allow('alpha', { subjects: [{ user: 'alice' }], tools: ['alpha'], when: 'arguments.n < 10' })],
    audit: { sinks },
  });
  cfg.pinning = { mode: 'Off' }; // on by default, and it needs the MCP SDK client
  cfg.listen = { host: '127.0.0.1', port, path: '/mcp' };
  cfg.admin = { host: '127.0.0.1', port: adminPort };
  const file = join(dir, `sidecar-${port}.yaml`);
  await writeFile(file, stringify(cfg));
  const inherited = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('OTEL_')));
  // The hook's lines go to a file: all of them, more than a child's kept output holds.
  const log = join(dir, `sidecar-${port}.stderr`);
  const child = startChild(
    'sidecar',
    process.execPath,
    ['--import', './test/support/module-load-log.ts', 'sidecar/src/main.ts', '--config', file],
    {
      cwd: new URL('../../../', import.meta.url).pathname,
      env: { ...inherited, LOG_LEVEL: 'warn', ...env },
      stdout: 'ignore',
      stderr: { file: log },
    },
  );
  try {
    await child.waitUntilServing(`http://127.0.0.1:${adminPort}/readyz`);
  } finally {
    await child.stop();
  }
  const stderr = readFileSync(log, 'utf8');
  const packages = new Set<string>();
  if (/^BUNDLED_UNDICI true$/m.test(stderr)) packages.add('node:internal/deps/undici');
  else if (!/^BUNDLED_UNDICI false$/m.test(stderr))
    throw new Error('the module-load hook reported nothing at exit');
  for (const [, name] of stderr.matchAll(/^LOADED \S*\/node_modules\/((?:@[^/]+\/)?[^/]+)\//gm))
    packages.add(name as string);
  return packages;
}

describe('modules a configuration does not use are not loaded', () => {
  it('a sidecar with API keys, a CEL rule, a file sink, pinning off and no trace exporter loads none of them', async () => {
    const loaded = await packagesLoaded([{ type: 'file', path: join(dir, 'audit.log') }], {});
    // What it does load, so that an empty list cannot pass for a lean one.
    expect(loaded).toContain('fastify');
    expect(loaded).toContain('undici');
    expect(loaded).toContain('@marcbachmann/cel-js');
    expect(LAZY.filter((p) => loaded.has(p))).toEqual([]);
  });

  it('an OTLP trace endpoint and an OTLP audit sink load the OpenTelemetry SDK and logs exporter', async () => {
    const loaded = await packagesLoaded([{ type: 'otlp', endpoint: 'http://127.0.0.1:9/v1/logs' }], {
      OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:9',
    });
    expect(loaded).toContain('@opentelemetry/sdk-node');
    expect(loaded).toContain('@opentelemetry/exporter-logs-otlp-http');
    expect(loaded).not.toContain('@kubernetes/client-node');
  });
});
