import { randomUUID } from 'node:crypto';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import {
  CreateMessageRequestSchema,
  LoggingMessageNotificationSchema,
  ResourceUpdatedNotificationSchema,
  ToolListChangedNotificationSchema,
} from '@modelcontextprotocol/sdk/types.js';
import { afterEach, describe, expect, it } from 'vitest';
import { SHARED_MAX_PROCESSES } from '../../../sidecar/src/contract/upstream.ts';
import { everythingEntry } from '../../../sidecar/src/quickstart/everything.ts';
import type { RunningSidecar } from '../../../sidecar/src/server/sidecar.ts';
import { config, KEYS, MCP_HEADERS, sidecarFor } from '../../support/harness.ts';
import { startLauncher } from '../../support/launcher.ts';
import { pythonWithMcp } from '../../support/python-venv.ts';
import {
  type Connected,
  connect,
  INITIALIZE,
  MARKER,
  marked,
  PYTHON_STATE_SERVER,
  processes,
  STATE_SERVER,
  stateServerUpstream,
  until,
  waitForMarked,
} from '../../support/stdio-fixture.ts';

// The stdio `shared` mode with real servers (the everything server, a Python MCP SDK server) and
// real SDK clients: one process for every session, and still no session sees another's replies,
// progress or cancellations, whatever ids the clients pick (two SDK clients number their requests
// alike, so every test here collides ids).

let sidecar: RunningSidecar | undefined;
const clients: Connected[] = [];
afterEach(async () => {
  for (const c of clients.splice(0)) await c.client.close().catch(() => {});
  await sidecar?.close();
  sidecar = undefined;
});

async function sharedSidecar(command: string, args: string[], marker: string): Promise<RunningSidecar> {
  sidecar = await sidecarFor(
    config({
      upstream: {
        transport: 'stdio',
        command,
        args,
        env: { [MARKER]: marker },
        processes: processes({ mode: 'shared', maxProcesses: 1 }),
        connectTimeoutMs: 5_000,
        requestTimeoutMs: 60_000,
      },
    }),
  );
  return sidecar;
}

async function client(url: string): Promise<Connected> {
  const c = await connect(url);
  clients.push(c);
  return c;
}

const text = (r: unknown) => (r as { content: { text: string }[] }).content[0]?.text;

/** A raw session through the sidecar (for what an SDK client hides: the stream of one request). */
async function rawSession(url: string): Promise<(body: object) => Promise<Response>> {
  const init = await fetch(url, {
    method: 'POST',
    headers: { ...MCP_HEADERS, 'x-api-key': KEYS.alice },
    body: INITIALIZE,
  });
  expect(init.status).toBe(200);
  await init.text();
  const sid = init.headers.get('mcp-session-id') ?? '';
  const send = (body: object) =>
    fetch(url, {
      method: 'POST',
      headers: {
        ...MCP_HEADERS,
        'x-api-key': KEYS.alice,
        'mcp-session-id': sid,
        'mcp-protocol-version': '2025-06-18',
      },
      body: JSON.stringify({ jsonrpc: '2.0', ...body }),
    });
  await (await send({ method: 'notifications/initialized' })).text();
  return send;
}

/** The JSON-RPC messages of an SSE response, as they come. */
async function* sseMessages(res: Response): AsyncGenerator<Record<string, unknown>> {
  const decoder = new TextDecoder();
  let buffered = '';
  for await (const chunk of res.body as AsyncIterable<Uint8Array>) {
    buffered += decoder.decode(chunk, { stream: true });
    let cut = buffered.indexOf('\n\n');
    while (cut >= 0) {
      const event = buffered.slice(0, cut);
      buffered = buffered.slice(cut + 2);
      const data = event
        .split('\n')
        .filter((l) => l.startsWith('data:'))
        .map((l) => l.slice(5).trim())
        .join('');
      if (data) yield JSON.parse(data);
      cut = buffered.indexOf('\n\n');
    }
  }
}

describe('stdio shared mode with the everything server', () => {
  const marker = randomUUID();
  const start = () => sharedSidecar(process.execPath, [everythingEntry(), 'stdio'], marker);

  it('gives two callers with colliding request ids their own replies, from one process', async () => {
    const { url } = await start();
    const [a, b] = [await client(url), await client(url)];
    const calls = Array.from({ length: 20 }, (_, i) => [
      a.client.callTool({ name: 'echo', arguments: { message: `a-${i}` } }),
      b.client.callTool({ name: 'echo', arguments: { message: `b-${i}` } }),
    ]).flat();
    const replies = (await Promise.all(calls)).map(text);
    expect(replies).toEqual(Array.from({ length: 20 }, (_, i) => [`Echo: a-${i}`, `Echo: b-${i}`]).flat());
    expect(marked(marker)).toHaveLength(1);
  });

  it('sends each session its own progress, never the other one’s (same ids, same progress tokens)', async () => {
    const { url } = await start();
    const [a, b] = [await client(url), await client(url)];
    const progress: Record<'a' | 'b', number[]> = { a: [], b: [] };
    const run = (c: Connected, who: 'a' | 'b') =>
      c.client.callTool(
        { name: 'trigger-long-running-operation', arguments: { duration: 1, steps: 4 } },
        undefined,
        { onprogress: (p) => progress[who].push(p.progress) },
      );
    await Promise.all([run(a, 'a'), run(b, 'b')]);
    expect(progress).toEqual({ a: [1, 2, 3, 4], b: [1, 2, 3, 4] });
  });

  it("cancels the cancelling session's request only", async () => {
    const { url } = await start();
    const [a, b] = [await rawSession(url), await rawSession(url)];
    const call = { id: 7, method: 'tools/call' };
    const params = (token: string) => ({
      name: 'trigger-long-running-operation',
      arguments: { duration: 1.5, steps: 3 },
      _meta: { progressToken: token },
    });
    const streamA = sseMessages(await a({ ...call, params: params('t') }));
    const streamB = sseMessages(await b({ ...call, params: params('t') }));
    // Both run in the process (a first progress each), then A cancels its id 7.
    expect((await streamA.next()).value).toMatchObject({ method: 'notifications/progress' });
    expect((await streamB.next()).value).toMatchObject({ method: 'notifications/progress' });
    const cancel = await a({ method: 'notifications/cancelled', params: { requestId: 7 } });
    expect(cancel.status).toBe(202);
    const fromB: Record<string, unknown>[] = [];
    for await (const m of streamB) {
      fromB.push(m);
      if ('result' in m) break;
    }
    expect(fromB.at(-1)).toMatchObject({ id: 7, result: { content: [{ type: 'text' }] } });
    // B's call has ended; A's, cancelled in the process, never answers (the SDK server drops it).
    const nextOfA = await Promise.race([
      (async () => {
        for await (const m of streamA) if ('result' in m || 'error' in m) return m;
        return 'closed';
      })(),
      new Promise((r) => setTimeout(() => r('no reply'), 1_000)),
    ]);
    expect(nextOfA).toBe('no reply');
  });

  it("sends resources/updated to the subscribed session only, and no session the others' log lines", async () => {
    const { url } = await start();
    const [a, b] = [await client(url), await client(url)];
    const seen = { a: [] as string[], b: [] as string[], logsOfB: [] as string[] };
    a.client.setNotificationHandler(ResourceUpdatedNotificationSchema, (n) => {
      seen.a.push(n.params.uri);
    });
    b.client.setNotificationHandler(ResourceUpdatedNotificationSchema, (n) => {
      seen.b.push(n.params.uri);
    });
    b.client.setNotificationHandler(LoggingMessageNotificationSchema, (n) => {
      seen.logsOfB.push(String(n.params.data));
    });
    await a.client.subscribeResource({ uri: 'demo://only-a' });
    await b.client.subscribeResource({ uri: 'demo://only-b' });
    // The server sends an update for every subscribed URI now and every 5 s (to one stdio client: the mux).
    await a.client.callTool({ name: 'toggle-subscriber-updates', arguments: {} });
    const deadline = Date.now() + 15_000;
    while ((seen.a.length === 0 || seen.b.length === 0) && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(new Set(seen.a)).toEqual(new Set(['demo://only-a']));
    expect(new Set(seen.b)).toEqual(new Set(['demo://only-b']));
    // The server logged A's subscribe request ("Received Subscribe ... demo://only-a"): B never sees it.
    expect(seen.logsOfB.filter((l) => l.includes('only-a'))).toEqual([]);
    await a.client.callTool({ name: 'toggle-subscriber-updates', arguments: {} });
  });

  it("sends the server's sampling request to the session whose call asked for it, whoever initialized the process", async () => {
    const { url } = await start();
    const asked = { a: 0, b: 0 };
    const samplingClient = async (who: 'a' | 'b', sampling: boolean) => {
      const c = new Client(
        { name: `client-${who}`, version: '1' },
        { capabilities: sampling ? { sampling: {} } : {} },
      );
      if (sampling) {
        c.setRequestHandler(CreateMessageRequestSchema, async () => {
          asked[who]++;
          return { role: 'assistant', model: 'test', content: { type: 'text', text: `answer of ${who}` } };
        });
      }
      await c.connect(
        new StreamableHTTPClientTransport(new URL(url), {
          requestInit: { headers: { 'x-api-key': KEYS.alice } },
        }),
      );
      return c;
    };
    // B, without sampling, initializes the process; A, with it, still gets the server's request.
    const b = await samplingClient('b', false);
    const a = await samplingClient('a', true);
    try {
      const args = { name: 'trigger-sampling-request', arguments: { prompt: 'hi', maxTokens: 5 } };
      expect(text(await a.callTool(args))).toContain('answer of a');
      expect(asked).toEqual({ a: 1, b: 0 });
      // B's client cannot sample: the server's request is refused for it, not sent to A.
      const refused = (await b
        .callTool(args)
        .catch((e: Error) => ({ isError: true, content: [{ text: e.message }] }))) as {
        isError?: boolean;
        content: { text: string }[];
      };
      expect(refused.isError).toBe(true);
      expect(refused.content[0]?.text).toMatch(/does not support/);
      expect(asked).toEqual({ a: 1, b: 0 });
    } finally {
      await a.close();
      await b.close();
    }
  });

  it('keeps the process when a session ends, for the others and for new ones', async () => {
    const { url } = await start();
    const [a, b] = [await client(url), await client(url)];
    await a.client.callTool({ name: 'echo', arguments: { message: 'a' } });
    const [pid] = marked(marker);
    await a.transport.terminateSession();
    expect(text(await b.client.callTool({ name: 'echo', arguments: { message: 'b' } }))).toBe('Echo: b');
    const c = await client(url);
    expect(text(await c.client.callTool({ name: 'echo', arguments: { message: 'c' } }))).toBe('Echo: c');
    expect(marked(marker)).toEqual([pid]);
    await sidecar?.close();
    expect(marked(marker)).toEqual([]);
  });
});

describe('stdio shared mode when the process dies', () => {
  it('answers the call in flight with an error, ends every session on it, and starts a new process for the next', async () => {
    const marker = randomUUID();
    sidecar = await sidecarFor(config({ upstream: stateServerUpstream(marker, { mode: 'shared' }) }));
    const [a, b] = [await client(sidecar.url), await client(sidecar.url)];
    const { pid } = await b.call('recall');
    const pending = a.call('slow', { ms: 60_000 }).then(
      () => undefined,
      (e: { code?: number }) => e,
    );
    await new Promise((r) => setTimeout(r, 300));
    process.kill(pid, 'SIGKILL');
    expect((await pending)?.code).toBe(-32603);
    await waitForMarked(marker, (pids) => pids.length === 0, 'the killed process');
    // B's session was on that process: it is gone (404), and a new session gets a new process.
    await expect(b.call('recall')).rejects.toThrow(/404|Session not found/);
    const c = await client(sidecar.url);
    const again = await c.call('recall');
    expect(again.pid).not.toBe(pid);
    expect(marked(marker)).toEqual([again.pid]);
  });
});

describe('stdio shared mode through the launcher (as in a Shared pod)', () => {
  it('serves two callers from one process the launcher started, under its cap of two', async () => {
    const marker = randomUUID();
    const launcher = await startLauncher(process.execPath, [STATE_SERVER], { [MARKER]: marker }, [
      '-max-processes',
      String(SHARED_MAX_PROCESSES),
    ]);
    try {
      sidecar = await sidecarFor(
        config({
          upstream: {
            transport: 'stdio',
            launcher: { socket: launcher.socket },
            processes: processes({ mode: 'shared', warm: 1 }),
            connectTimeoutMs: 5_000,
            requestTimeoutMs: 60_000,
          },
        }),
      );
      const [a, b] = [await client(sidecar.url), await client(sidecar.url)];
      const [ra, rb] = await Promise.all([a.call('remember', { value: 'x' }), b.call('recall')]);
      expect(ra.pid).toBe(rb.pid);
      expect(marked(marker).filter((p) => p !== launcher.pid)).toEqual([ra.pid]);
      // The launcher tags the shared process's stderr lines as `shared`.
      await a.call('stderr', { text: 'from the shared process' });
      await until(() => launcher.lines.some((l) => l.msg === 'from the shared process'), 'the stderr line');
      expect(launcher.lines.find((l) => l.msg === 'from the shared process')?.stdio).toMatchObject({
        pid: ra.pid,
        session: 'shared',
      });
      await sidecar.close();
      sidecar = undefined;
      await waitForMarked(marker, (pids) => pids.every((p) => p === launcher.pid), 'the shared process');
    } finally {
      await launcher.stop();
    }
  });
});

describe('stdio shared mode when idle', () => {
  it('stops the process once no session is left for the idle timeout; the next session starts one', async () => {
    const marker = randomUUID();
    const upstream = stateServerUpstream(marker, { mode: 'shared', idleTimeoutMs: 500 });
    sidecar = await sidecarFor(config({ upstream }));
    const [a, b] = [await client(sidecar.url), await client(sidecar.url)];
    const { pid } = await a.call('recall');
    await a.transport.terminateSession();
    // B still holds a session (and keeps it busy): the process stays.
    await b.call('slow', { ms: 800 });
    expect(marked(marker)).toEqual([pid]);
    await b.transport.terminateSession();
    await waitForMarked(marker, (pids) => pids.length === 0, 'the idle shared process');
    const c = await client(sidecar.url);
    const again = await c.call('recall');
    expect(again.pid).not.toBe(pid);
    expect(marked(marker)).toEqual([again.pid]);
  });
});

describe('stdio shared mode with a Python MCP server', () => {
  const marker = randomUUID();

  it('answers colliding ids to the right caller from one process, outlives a session, fans tools/list_changed out', async () => {
    const python = await pythonWithMcp();
    const { url } = await sharedSidecar(python, [PYTHON_STATE_SERVER], marker);
    const [a, b] = [await client(url), await client(url)];
    const writes = Array.from({ length: 10 }, (_, i) => [
      a.call('write_file', { name: `a-${i}`, text: `a-${i}` }),
      b.call('write_file', { name: `b-${i}`, text: `b-${i}` }),
    ]).flat();
    const replies = await Promise.all(writes);
    expect(replies.map((r) => (r as unknown as { file: string }).file)).toEqual(
      Array.from({ length: 10 }, (_, i) => [`a-${i}`, `b-${i}`]).flat(),
    );
    // Shared means shared: one process, one state (what the mode is for: stateless servers).
    const pids = new Set(replies.map((r) => r.pid));
    expect(pids.size).toBe(1);
    await a.call('remember', { value: 'alpha' });
    expect((await b.call('recall')).remembered).toBe('alpha');
    await a.transport.terminateSession();
    const c = await client(url);
    expect((await c.call('recall')).pid).toBe([...pids][0]);
    expect((await b.call('recall')).pid).toBe([...pids][0]);
    // The server's tools/list_changed concerns every session: each gets it (on its GET stream,
    // which the client opens after initialize, so the call is repeated until both have one).
    const changed = { b: 0, c: 0 };
    b.client.setNotificationHandler(ToolListChangedNotificationSchema, () => {
      changed.b++;
    });
    c.client.setNotificationHandler(ToolListChangedNotificationSchema, () => {
      changed.c++;
    });
    const deadline = Date.now() + 15_000;
    while ((changed.b === 0 || changed.c === 0) && Date.now() < deadline) {
      await c.call('announce_tools_changed');
      await new Promise((r) => setTimeout(r, 200));
    }
    expect(changed.b).toBeGreaterThan(0);
    expect(changed.c).toBeGreaterThan(0);
  }, 300_000);
});
