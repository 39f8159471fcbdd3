import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type EverythingServer,
  freePort,
  startEverything,
} from '../../../sidecar/src/quickstart/everything.ts';
import type { RunningSidecar } from '../../../sidecar/src/server/sidecar.ts';
import { allow, config, sidecarFor } from './support/harness.ts';

// The MCP conformance suite (server scenarios) run against the everything server directly and
// through the sidecar: every scenario that passes directly passes through the sidecar too.
// Anonymous access is switched on here only because the suite's client sends no credentials.

let everything: EverythingServer;
let sidecar: RunningSidecar;
let cwd: string;

function conformanceCli(): string {
  const require = createRequire(import.meta.url);
  return join(dirname(require.resolve('@modelcontextprotocol/conformance/package.json')), 'dist', 'index.js');
}

/** Runs the server suite; returns scenario -> passed (all of its checks). */
function runSuite(url: string): Promise<Map<string, boolean>> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [conformanceCli(), 'server', '--url', url], {
      cwd,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout.on('data', (c: Buffer) => {
      out += c.toString();
    });
    child.stderr.resume();
    child.once('error', reject);
    child.once('exit', () => {
      const results = new Map<string, boolean>();
      for (const m of out.matchAll(/^[✓✗] (\S+): (\d+) passed, (\d+) failed$/gmu)) {
        results.set(m[1] as string, Number(m[3]) === 0);
      }
      resolve(results);
    });
  });
}

beforeAll(async () => {
  cwd = await mkdtemp(join(tmpdir(), 'portcullis-conformance-'));
  everything = await startEverything('streamableHttp');
  const port = await freePort();
  sidecar = await sidecarFor(
    config({
      canonicalUri: `http://127.0.0.1:${port}/mcp`,
      upstream: { transport: 'streamable-http', url: everything.url },
      authentication: { allowAnonymous: true },
      rules: [
        allow('anonymous-all', {
          subjects: [{ group: 'system:unauthenticated' }],
          tools: ['*'],
          prompts: ['*'],
          resources: ['*'],
        }),
      ],
    }),
    undefined,
    { portOverride: port },
  );
});

afterAll(async () => {
  await sidecar?.close();
  await everything?.close();
  await rm(cwd, { recursive: true, force: true });
});

describe('MCP conformance suite', () => {
  it('passes through the sidecar every scenario the server passes directly', {
    timeout: 180_000,
  }, async () => {
    const direct = await runSuite(everything.url);
    const proxied = await runSuite(sidecar.url);
    expect(direct.size).toBeGreaterThan(10);
    const passedDirect = [...direct].filter(([, ok]) => ok).map(([name]) => name);
    const lost = passedDirect.filter((name) => proxied.get(name) !== true);
    expect(lost).toEqual([]);
    // The sidecar adds DNS-rebinding protection the server itself lacks.
    expect(proxied.get('dns-rebinding-protection')).toBe(true);
  });
});
