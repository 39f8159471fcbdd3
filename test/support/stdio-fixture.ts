import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { expect } from 'vitest';
import type { SidecarConfig } from '../../sidecar/src/contract/config.ts';
import { KEYS } from './harness.ts';

// The stdio upstream's tests: the state server fixture as a stdio upstream, every process it starts
// marked by an environment variable, and the marked processes found in /proc (children and
// grandchildren alike, whatever their process group).

export const STATE_SERVER = fileURLToPath(new URL('../fixtures/stdio/state-server.ts', import.meta.url));
export const MARKER = 'PORTCULLIS_STDIO_TEST';

/** A raw initialize, for requests that must not come from a client (many at once, past the cap). */
export const INITIALIZE = JSON.stringify({
  jsonrpc: '2.0',
  id: 1,
  method: 'initialize',
  params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'raw', version: '1' } },
});

export type Processes = NonNullable<SidecarConfig['upstream']['processes']>;

export function processes(p: Partial<Processes> = {}): Processes {
  return { maxProcesses: 16, warm: 0, idleTimeoutMs: 600_000, stopGraceMs: 5_000, ...p };
}

export function stateServerUpstream(
  marker: string,
  p: Partial<Processes> = {},
  env: Record<string, string> = {},
): SidecarConfig['upstream'] {
  return {
    transport: 'stdio',
    command: process.execPath,
    args: [STATE_SERVER],
    env: { [MARKER]: marker, ...env },
    processes: processes(p),
    connectTimeoutMs: 5_000,
    requestTimeoutMs: 60_000,
  };
}

/** Live (not zombie) processes whose environment holds MARKER=marker. */
export function marked(marker: string): number[] {
  const wanted = `${MARKER}=${marker}`;
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    let environ: string;
    try {
      environ = readFileSync(`/proc/${entry}/environ`, 'latin1');
    } catch {
      continue; // gone, or not ours
    }
    if (environ.split('\0').includes(wanted)) pids.push(Number(entry));
  }
  return pids;
}

/** Polls the marked processes until `done` holds; fails with what it saw after timeoutMs. */
export async function waitForMarked(
  marker: string,
  done: (pids: number[]) => boolean,
  what: string,
  timeoutMs = 15_000,
): Promise<number[]> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const pids = marked(marker);
    if (done(pids)) return pids;
    if (Date.now() > deadline)
      throw new Error(`${what}: still ${pids.length} processes (${pids.join(', ')})`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

export interface Connected {
  readonly client: Client;
  readonly transport: StreamableHTTPClientTransport;
  call(name: string, args?: Record<string, unknown>): Promise<{ pid: number; remembered: string | null }>;
}

/** An SDK client through the sidecar, as alice. */
export async function connect(url: string): Promise<Connected> {
  const client = new Client({ name: 'stdio-test', version: '1' });
  const transport = new StreamableHTTPClientTransport(new URL(url), {
    requestInit: { headers: { 'x-api-key': KEYS.alice } },
  });
  await client.connect(transport);
  return {
    client,
    transport,
    async call(name, args = {}) {
      const r = (await client.callTool({ name, arguments: args })) as { content: { text: string }[] };
      return JSON.parse(r.content[0]?.text ?? 'null');
    },
  };
}

/** Two callers get two processes: what one remembers, the other does not see. */
export async function expectIsolated(url: string, marker: string): Promise<[Connected, Connected]> {
  const a = await connect(url);
  const b = await connect(url);
  const stored = await a.call('remember', { value: 'alpha' });
  const other = await b.call('recall');
  expect(stored.remembered).toBe('alpha');
  expect(other.remembered).toBeNull();
  expect(other.pid).not.toBe(stored.pid);
  expect(marked(marker).sort()).toEqual([stored.pid, other.pid].sort());
  expect((await a.call('recall')).remembered).toBe('alpha');
  return [a, b];
}
