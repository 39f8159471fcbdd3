import { randomUUID } from 'node:crypto';
import { readdirSync } from 'node:fs';
import { createConnection, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { everythingEntry } from '../../../sidecar/src/quickstart/everything.ts';
import { type RunningSidecar, startSidecar } from '../../../sidecar/src/server/sidecar.ts';
import {
  ensurePrefectPython,
  type PrefectServer,
  prefectMcpCommand,
  startPrefectServer,
} from '../../fixtures/prefect/prefect.ts';
import { config, KEYS, MCP_HEADERS } from '../../support/harness.ts';
import type { RunningLauncher } from '../../support/launcher.ts';
import { startLauncher } from '../../support/launcher.ts';
import { PYTHON_STATE_SERVER, pythonForStateServer } from '../../support/python-venv.ts';
import {
  connect,
  INITIALIZE,
  MARKER,
  marked,
  type Processes,
  processes,
  STATE_SERVER,
  waitForMarked,
} from '../../support/stdio-fixture.ts';

// The stdio upstream through the launcher (sidecar/launcher), as in a pod: the launcher and the
// sidecar as real processes, the launcher's Unix socket between them, real stdio MCP servers
// behind it and real SDK clients in front. Per-session processes and directories, the caps,
// reclaim, the warm pool, stderr tagged with the session, and nothing outliving either side.

let sidecar: RunningSidecar | undefined;
let launcher: RunningLauncher | undefined;
afterEach(async () => {
  await sidecar?.close();
  await launcher?.stop();
  sidecar = undefined;
  launcher = undefined;
});

/** The launcher runs the state server with MARKER in its environment; the launcher itself is marked too. */
async function start(marker: string, p: Partial<Processes>, env: Record<string, string> = {}) {
  launcher = await startLauncher(process.execPath, [STATE_SERVER], { [MARKER]: marker, ...env });
  sidecar = await startSidecar({
    config: config({
      upstream: {
        transport: 'stdio',
        launcher: { socket: launcher.socket },
        processes: processes(p),
        connectTimeoutMs: 5_000,
        requestTimeoutMs: 60_000,
      },
    }),
    audit: 'off',
    portOverride: 0,
    adminPortOverride: 0,
  });
  const servers = () => marked(marker).filter((pid) => pid !== launcher?.pid);
  return { sidecar, launcher, servers };
}

async function until(done: () => boolean, what: string, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!done()) {
    if (Date.now() > deadline) throw new Error(`not seen in time: ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('stdio servers through the launcher', () => {
  it('gives two callers two processes in two directories: a file one writes, the other does not see', async () => {
    const marker = randomUUID();
    const { sidecar, servers, launcher } = await start(marker, {});
    const a = await connect(sidecar.url);
    const b = await connect(sidecar.url);
    const wrote = (await a.call('write_file', { name: 'notes.txt', text: 'alpha' })) as unknown as {
      pid: number;
      file: string;
      cwd: string;
    };
    const other = (await b.call('read_file', { name: 'notes.txt' })) as unknown as {
      pid: number;
      file: string | null;
      cwd: string;
    };
    expect(wrote.file).toBe('alpha');
    expect(other.file).toBeNull();
    expect(other.pid).not.toBe(wrote.pid);
    expect(other.cwd).not.toBe(wrote.cwd);
    expect(wrote.cwd.startsWith(`${launcher.sessions}/`)).toBe(true);
    expect(((await a.call('read_file', { name: 'notes.txt' })) as unknown as { file: string }).file).toBe(
      'alpha',
    );
    expect(servers().sort()).toEqual([wrote.pid, other.pid].sort());
    // A session's end stops its process and removes its directory.
    await a.transport.terminateSession();
    await a.client.close();
    await waitForMarked(marker, (pids) => !pids.includes(wrote.pid), 'the ended session’s process');
    await until(() => readdirSync(launcher.sessions).length === 1, 'the ended session’s directory removed');
    await b.client.close();
  });

  it('holds maxProcesses under 100 concurrent sessions: 8 processes, 92 refused with 503', async () => {
    const marker = randomUUID();
    const { sidecar, servers } = await start(marker, { maxProcesses: 8 });
    let most = 0;
    const sampler = setInterval(() => {
      most = Math.max(most, servers().length);
    }, 10);
    const replies = await Promise.all(
      Array.from({ length: 100 }, () =>
        fetch(sidecar.url, {
          method: 'POST',
          headers: { ...MCP_HEADERS, 'x-api-key': KEYS.alice },
          body: INITIALIZE,
        }).then(async (r) => ({
          status: r.status,
          sid: r.headers.get('mcp-session-id'),
          text: await r.text(),
        })),
      ),
    );
    clearInterval(sampler);
    expect(replies.filter((r) => r.status === 200)).toHaveLength(8);
    expect(replies.filter((r) => r.status === 503)).toHaveLength(92);
    expect(servers()).toHaveLength(8);
    expect(most).toBeLessThanOrEqual(8);
  });

  it('reclaims an idle process and refills the warm pool', async () => {
    const marker = randomUUID();
    const { sidecar, servers, launcher } = await start(marker, { warm: 2, idleTimeoutMs: 300 });
    await until(() => servers().length === 2, 'two warm processes before any session');
    const a = await connect(sidecar.url);
    const pid = ((await a.call('recall')) as { pid: number }).pid;
    await until(() => servers().length === 3, 'the pool refilled behind the session');
    await waitForMarked(marker, (pids) => !pids.includes(pid), 'the idle process reclaimed');
    expect(
      await sidecar.metrics.registry
        .getSingleMetric('portcullis_sidecar_stdio_processes_reclaimed_total')
        ?.get()
        .then((m) => m.values.find((v) => v.labels.reason === 'idle')?.value),
    ).toBe(1);
    // Its stderr reached the launcher's log tagged with its session.
    const session = a.transport.sessionId;
    expect(
      launcher.lines.some(
        (l) =>
          typeof l.msg === 'string' &&
          l.msg.startsWith('state-server') &&
          (l.stdio as { session?: string }).session === session,
      ),
    ).toBe(true);
    await a.client.close();
  });

  it('SIGTERM of the launcher stops every server and what it started; nothing outlives it', async () => {
    const marker = randomUUID();
    const { sidecar, launcher } = await start(marker, {}, { STATE_SERVER_GRANDCHILD: '1' });
    const a = await connect(sidecar.url);
    const b = await connect(sidecar.url);
    await a.call('recall');
    await b.call('recall');
    // Two servers, their two `sleep`s, and the launcher.
    await waitForMarked(marker, (pids) => pids.length === 5, 'servers and their children');
    expect(await launcher.stop('SIGTERM')).toBe(0);
    await waitForMarked(marker, (pids) => pids.length === 0, 'processes after the launcher exited');
  });

  it('nothing outlives the sidecar: its close stops every process the launcher started for it', async () => {
    const marker = randomUUID();
    const { sidecar, servers } = await start(marker, { warm: 1 });
    const a = await connect(sidecar.url);
    await a.call('recall');
    await until(() => servers().length === 2, 'one session and one warm process');
    await sidecar.close();
    await until(() => servers().length === 0, 'processes after the sidecar closed');
  });

  it('is not ready until the launcher listens: the server container is part of the path', async () => {
    const marker = randomUUID();
    const { sidecar } = await start(marker, {});
    const readyz = () => fetch(`${sidecar.adminUrl}/readyz`).then((r) => r.status);
    expect(await readyz()).toBe(200);
    await launcher?.stop();
    expect(await readyz()).toBe(503);
    launcher = undefined;
  });

  it('refuses a session with a clear error when the launcher cannot start the command', async () => {
    launcher = await startLauncher('/nonexistent/server', []);
    sidecar = await startSidecar({
      config: config({
        upstream: {
          transport: 'stdio',
          launcher: { socket: launcher.socket },
          processes: processes({}),
          connectTimeoutMs: 5_000,
          requestTimeoutMs: 60_000,
        },
      }),
      audit: 'off',
      portOverride: 0,
      adminPortOverride: 0,
    });
    const r = await fetch(sidecar.url, {
      method: 'POST',
      headers: { ...MCP_HEADERS, 'x-api-key': KEYS.alice },
      body: INITIALIZE,
    });
    expect(r.status).toBe(502);
    expect(launcher.lines.some((l) => l.msg === 'cannot start the server')).toBe(true);
  });
});

/** One request line to the launcher's socket; resolves with its answer line (and keeps the connection). */
function ask(socket: string, request: string): Promise<{ answer: Record<string, unknown>; conn: Socket }> {
  return new Promise((resolve, reject) => {
    const conn = createConnection(socket, () => conn.write(`${request}\n`));
    let text = '';
    conn.on('error', reject);
    conn.on('data', (b: Buffer) => {
      text += b.toString();
      const eol = text.indexOf('\n');
      if (eol >= 0) resolve({ answer: JSON.parse(text.slice(0, eol)), conn });
    });
  });
}

describe("the launcher's protocol", () => {
  it('refuses what is not a request, and a spawn past its own -max-processes, with the reason', async () => {
    launcher = await startLauncher(process.execPath, [STATE_SERVER], {}, ['-max-processes', '1']);
    const bad = await ask(launcher.socket, '{"op":"spawn","id":"../../etc"}');
    expect(bad.answer.error).toMatch(/bad request/);
    const unknown = await ask(launcher.socket, '{"op":"exec","id":"a"}');
    expect(unknown.answer.error).toMatch(/unknown op/);
    const first = await ask(launcher.socket, '{"op":"spawn","id":"first"}');
    expect(typeof first.answer.pid).toBe('number');
    const second = await ask(launcher.socket, '{"op":"spawn","id":"second"}');
    expect(second.answer.error).toMatch(/at capacity/);
    // Closing the connection stops the process: room again.
    first.conn.destroy();
    await until(() => !launcher?.lines.every((l) => l.msg !== 'server ended'), 'the first process ended');
    await until(() => readdirSync(launcher?.sessions ?? '').length === 0, 'its directory removed');
    const third = await ask(launcher.socket, '{"op":"spawn","id":"third"}');
    expect(typeof third.answer.pid).toBe('number');
    third.conn.destroy();
  });
});

describe('real stdio servers through the launcher', () => {
  it('the everything server over stdio answers tools/list and a tool call', async () => {
    launcher = await startLauncher(process.execPath, [everythingEntry(), 'stdio']);
    sidecar = await startSidecar({
      config: config({
        upstream: {
          transport: 'stdio',
          launcher: { socket: launcher.socket },
          processes: processes({}),
          connectTimeoutMs: 5_000,
          requestTimeoutMs: 60_000,
        },
      }),
      audit: 'off',
      portOverride: 0,
      adminPortOverride: 0,
    });
    const c = await connect(sidecar.url);
    const tools = await c.client.listTools();
    expect(tools.tools.map((t) => t.name)).toContain('echo');
    const r = (await c.client.callTool({ name: 'echo', arguments: { message: 'through the launcher' } })) as {
      content: { text: string }[];
    };
    expect(r.content[0]?.text).toContain('through the launcher');
    await c.client.close();
  });

  it('a Python (MCP SDK) server: two callers, two processes, files kept apart', async () => {
    const python = await pythonForStateServer();
    const marker = randomUUID();
    launcher = await startLauncher(python, [PYTHON_STATE_SERVER], { [MARKER]: marker });
    sidecar = await startSidecar({
      config: config({
        upstream: {
          transport: 'stdio',
          launcher: { socket: launcher.socket },
          processes: processes({ maxProcesses: 2 }),
          connectTimeoutMs: 5_000,
          requestTimeoutMs: 60_000,
        },
      }),
      audit: 'off',
      portOverride: 0,
      adminPortOverride: 0,
    });
    const a = await connect(sidecar.url);
    const b = await connect(sidecar.url);
    const wrote = (await a.call('write_file', { name: 'n.txt', text: 'py' })) as unknown as { pid: number };
    const other = (await b.call('read_file', { name: 'n.txt' })) as unknown as { pid: number; file: null };
    expect(other.file).toBeNull();
    expect(other.pid).not.toBe(wrote.pid);
    await sidecar.close();
    sidecar = undefined;
    await until(() => marked(marker).filter((p) => p !== launcher?.pid).length === 0, 'python servers gone');
  }, 300_000);
});

describe("Prefect's MCP server through the launcher, against a local Prefect server", () => {
  let prefect: PrefectServer | undefined;
  afterEach(async () => {
    await prefect?.stop();
    prefect = undefined;
  });

  it('answers with what the Prefect server holds, one process per caller', async () => {
    const python = await ensurePrefectPython();
    prefect = await startPrefectServer(python);
    const flow = `portcullis-${randomUUID()}`;
    const created = await fetch(`${prefect.apiUrl}/flows/`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ name: flow }),
    });
    expect(created.ok).toBe(true);
    const marker = randomUUID();
    const { command, args } = prefectMcpCommand(python);
    launcher = await startLauncher(command, args, {
      [MARKER]: marker,
      PREFECT_API_URL: prefect.apiUrl,
      PREFECT_SERVER_ANALYTICS_ENABLED: 'false',
    });
    sidecar = await startSidecar({
      config: config({
        upstream: {
          transport: 'stdio',
          launcher: { socket: launcher.socket },
          processes: processes({ maxProcesses: 4 }),
          connectTimeoutMs: 5_000,
          requestTimeoutMs: 120_000,
        },
      }),
      audit: 'off',
      portOverride: 0,
      adminPortOverride: 0,
    });
    const a = await connect(sidecar.url);
    const b = await connect(sidecar.url);
    const tools = (await a.client.listTools()).tools.map((t) => t.name);
    expect(tools).toEqual(expect.arrayContaining(['get_flows', 'get_identity']));
    const flows = (await b.client.callTool({ name: 'get_flows', arguments: {} })) as {
      content: { text: string }[];
    };
    expect(JSON.stringify(flows.content)).toContain(flow);
    expect(marked(marker).filter((p) => p !== launcher?.pid)).toHaveLength(2);
    await sidecar.close();
    sidecar = undefined;
    await until(
      () => marked(marker).filter((p) => p !== launcher?.pid).length === 0,
      'prefect-mcp processes gone',
    );
  }, 300_000);
});
