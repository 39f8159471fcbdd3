import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import { delimiter, dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type EverythingServer, startEverything } from '../../../sidecar/src/quickstart/everything.ts';
import { type HeaderRelay, startHeaderRelay } from '../../support/header-relay.ts';
import { rule, type SidecarProcess, startSidecarProcess } from '../../support/sidecar-process.ts';

// The MCP Inspector in CLI mode (`mcp-inspector --cli URL --method ...`) through the sidecar in front
// of the everything server (streamableHttp). Inspector 0.15 cannot send request headers, so an API
// key reaches the sidecar through a header-adding relay; without one the Inspector is either an
// anonymous caller (where the configuration admits them) or refused with a 401.

const ALICE_KEY = 'alice-key-0123456789';

function inspectorCli(): string {
  const require = createRequire(import.meta.url);
  const pkg = require.resolve('@modelcontextprotocol/inspector/package.json');
  return join(dirname(pkg), 'cli', 'build', 'cli.js');
}

interface CliRun {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs `mcp-inspector --cli url --transport http ...args`. */
function inspector(url: string, args: readonly string[]): Promise<CliRun> {
  return new Promise((resolve, reject) => {
    // The Inspector starts its CLI as `node ...` from PATH: make that this Node.
    const env = { ...process.env, PATH: `${dirname(process.execPath)}${delimiter}${process.env.PATH ?? ''}` };
    const child = spawn(process.execPath, [inspectorCli(), '--cli', url, '--transport', 'http', ...args], {
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => {
      stdout += c.toString();
    });
    child.stderr.on('data', (c: Buffer) => {
      stderr += c.toString();
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
    child.once('error', reject);
    child.once('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

function toolNames(run: CliRun): string[] {
  return (JSON.parse(run.stdout) as { tools: { name: string }[] }).tools.map((t) => t.name).sort();
}

function firstText(run: CliRun): string | undefined {
  return (JSON.parse(run.stdout) as { content: { text?: string }[] }).content[0]?.text;
}

let everything: EverythingServer;
/** Admits anonymous callers (echo only) besides API keys. */
let open: SidecarProcess;
/** The default: API keys only. */
let closed: SidecarProcess;
let alice: HeaderRelay;

beforeAll(async () => {
  everything = await startEverything('streamableHttp');
  const apiKeys = [{ id: 'alice', key: ALICE_KEY, subject: 'alice', groups: ['engineering'] }];
  const rules = [
    rule('engineers-tools', {
      action: 'allow',
      subjects: [{ group: 'engineering' }],
      tools: ['echo', 'get-sum', 'get-env'],
    }),
    rule('anonymous-echo', {
      action: 'allow',
      subjects: [{ group: 'system:unauthenticated' }],
      tools: ['echo'],
    }),
    rule('no-environment-dump', {
      action: 'deny',
      subjects: [{ anyAuthenticated: true }],
      tools: ['get-env'],
    }),
  ];
  [open, closed] = await Promise.all([
    startSidecarProcess({
      upstream: { transport: 'streamable-http', url: everything.url },
      allowAnonymous: true,
      apiKeys,
      rules,
    }),
    startSidecarProcess({
      upstream: { transport: 'streamable-http', url: everything.url },
      allowAnonymous: false,
      apiKeys,
      rules,
    }),
  ]);
  alice = await startHeaderRelay(closed.url, { 'x-api-key': ALICE_KEY });
});

afterAll(async () => {
  await alice?.close();
  await Promise.all([open?.close(), closed?.close()]);
  await everything?.close();
});

describe('MCP Inspector CLI through the sidecar', () => {
  it('lists only the tools an API-key caller may use and calls an allowed one', async () => {
    const list = await inspector(alice.url, ['--method', 'tools/list']);
    expect(list.code, list.stderr).toBe(0);
    expect(toolNames(list)).toEqual(['echo', 'get-sum']);
    const call = await inspector(alice.url, [
      '--method',
      'tools/call',
      '--tool-name',
      'get-sum',
      '--tool-arg',
      'a=1',
      'b=2',
    ]);
    expect(call.code, call.stderr).toBe(0);
    expect(firstText(call)).toBe('The sum of 1 and 2 is 3.');
  });

  it('reports a tool a deny rule covers as forbidden by policy', async () => {
    const call = await inspector(alice.url, ['--method', 'tools/call', '--tool-name', 'get-env']);
    expect(call.code).not.toBe(0);
    expect(call.stderr + call.stdout).toContain('MCP error -32003: Forbidden by policy');
  });

  it('works as an anonymous caller where the configuration admits them, within their rule', async () => {
    const list = await inspector(open.url, ['--method', 'tools/list']);
    expect(list.code, list.stderr).toBe(0);
    expect(toolNames(list)).toEqual(['echo']);
    const call = await inspector(open.url, [
      '--method',
      'tools/call',
      '--tool-name',
      'echo',
      '--tool-arg',
      'message=through the door',
    ]);
    expect(call.code, call.stderr).toBe(0);
    expect(firstText(call)).toBe('Echo: through the door');
    const denied = await inspector(open.url, ['--method', 'tools/call', '--tool-name', 'get-sum']);
    expect(denied.stderr + denied.stdout).toContain('Forbidden by policy');
  });

  it('is refused (authentication required) when it brings no credential and anonymous access is off', async () => {
    const list = await inspector(closed.url, ['--method', 'tools/list']);
    expect(list.code).not.toBe(0);
    expect(list.stderr + list.stdout).toContain('Authentication required: present a valid access token');
  });
});
