import { type ChildProcess, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../../../sidecar/src/quickstart/everything.ts';
import { initializeBody, messageOf, post } from '../../support/harness.ts';

// `npm start` as a user runs it: the quick start process (everything server + sidecar + a local
// key), the README's three calls (allowed, denied, unauthenticated), and a clean SIGTERM. The
// everything server behind it (HTTP, or stdio with --stdio) must not hand out the key around the
// sidecar: it listens on loopback only, with none of the quick start's environment.

const KEY = 'pc_dev_quickstart_test_key';
const CANARY = 'quickstart-canary-value';

interface Quickstart {
  child: ChildProcess;
  url: string;
  exited: Promise<number | null>;
}

async function startQuickstart(args: string[]): Promise<Quickstart> {
  const [port, adminPort] = [await freePort(), await freePort()];
  const child = spawn(process.execPath, ['sidecar/src/main.ts', ...args], {
    env: {
      ...process.env,
      PORT: String(port),
      ADMIN_PORT: String(adminPort),
      PORTCULLIS_API_KEY: KEY,
      QUICKSTART_CANARY: CANARY,
      LOG_LEVEL: 'warn',
    },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  await new Promise<void>((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error(`no banner: ${out}`)), 30_000);
    child.stdout?.on('data', (c: Buffer) => {
      out += c.toString();
      if (out.includes('PORTCULLIS_KEY=')) {
        clearTimeout(timer);
        resolve();
      }
    });
  });
  return { child, url: `http://127.0.0.1:${port}/mcp`, exited };
}

async function openSession(url: string): Promise<Record<string, string>> {
  const init = await post(url, initializeBody(), { 'x-api-key': KEY });
  expect(init.status).toBe(200);
  const h = {
    'x-api-key': KEY,
    'mcp-session-id': init.headers.get('mcp-session-id') as string,
    'mcp-protocol-version': '2025-06-18',
  };
  await post(url, JSON.stringify({ jsonrpc: '2.0', method: 'notifications/initialized' }), h);
  return h;
}

const call = (name: string, args: object) =>
  JSON.stringify({ jsonrpc: '2.0', id: 2, method: 'tools/call', params: { name, arguments: args } });

/** The processes started by `pid`, directly or not. */
function descendants(pid: number): number[] {
  const children = (p: number) =>
    readFileSync(`/proc/${p}/task/${p}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
  const out: number[] = [];
  for (let todo = children(pid); todo.length > 0; ) {
    const p = todo.shift() as number;
    out.push(p);
    todo.push(...children(p));
  }
  return out;
}

const environOf = (pid: number) => readFileSync(`/proc/${pid}/environ`, 'utf8').split('\0');

/** Local addresses of the sockets listening on `port` (from /proc/net/tcp and tcp6, hex as the kernel writes). */
function listeners(port: number): string[] {
  const hexPort = port.toString(16).toUpperCase().padStart(4, '0');
  return ['/proc/net/tcp', '/proc/net/tcp6'].flatMap((file) =>
    readFileSync(file, 'utf8')
      .split('\n')
      .slice(1)
      .map((l) => l.trim().split(/\s+/))
      .filter((f) => f[1]?.endsWith(`:${hexPort}`) && f[3] === '0A') // 0A: LISTEN
      .map((f) => (f[1] as string).split(':')[0] as string),
  );
}

describe('npm start (quick start)', () => {
  let qs: Quickstart;
  beforeAll(async () => {
    qs = await startQuickstart([]);
  });
  afterAll(() => {
    if (qs?.child.exitCode === null) qs.child.kill('SIGKILL');
  });

  it("answers the README's allowed, denied and unauthenticated calls", async () => {
    const h = await openSession(qs.url);
    const allowed = await post(qs.url, call('echo', { message: 'hi' }), h);
    expect(messageOf(allowed.text)).toMatchObject({ id: 2, result: { content: [{ text: 'Echo: hi' }] } });

    const denied = await post(qs.url, call('get-env', {}), h);
    expect(messageOf(denied.text)).toMatchObject({
      id: 2,
      error: { code: -32003, data: { rule: 'no-environment-dump' } },
    });

    const anonymous = await post(qs.url, initializeBody());
    expect(anonymous.status).toBe(401);
    expect(anonymous.headers.get('www-authenticate')).toContain('/.well-known/oauth-protected-resource/mcp');
  });

  it('runs the everything server on loopback only, and its get-env called directly shows no key', async () => {
    const [server] = descendants(qs.child.pid as number);
    const env = environOf(server as number);
    const port = Number(env.find((e) => e.startsWith('PORT='))?.slice(5));
    expect(listeners(port)).toEqual(['0100007F']); // 127.0.0.1, nothing on 0.0.0.0 or ::

    // What an attacker on the machine would do: skip the sidecar and ask the server itself.
    const direct = `http://127.0.0.1:${port}/mcp`;
    const init = await post(direct, initializeBody());
    const h = {
      'mcp-session-id': init.headers.get('mcp-session-id') as string,
      'mcp-protocol-version': '2025-06-18',
    };
    await post(direct, JSON.stringify({ jsonrpc: '2.0', method: 'notifications/initialized' }), h);
    const dump = await post(direct, call('get-env', {}), h);
    expect(dump.text).toContain('PORT');
    expect(dump.text).not.toContain(KEY);
    expect(dump.text).not.toContain(CANARY);
    expect(env.some((e) => e.startsWith('PORTCULLIS_API_KEY=') || e.includes(CANARY))).toBe(false);
  });

  it('stops cleanly on SIGTERM', async () => {
    qs.child.kill('SIGTERM');
    expect(await qs.exited).toBe(0);
  });
});

describe('npm start -- --stdio', () => {
  let qs: Quickstart;
  beforeAll(async () => {
    qs = await startQuickstart(['--stdio']);
  });
  afterAll(() => {
    if (qs?.child.exitCode === null) qs.child.kill('SIGKILL');
  });

  it('gives the stdio server none of the quick start environment', async () => {
    const h = await openSession(qs.url); // a session starts the stdio child
    const allowed = await post(qs.url, call('echo', { message: 'hi' }), h);
    expect(messageOf(allowed.text)).toMatchObject({ id: 2, result: { content: [{ text: 'Echo: hi' }] } });
    const servers = descendants(qs.child.pid as number);
    expect(servers.length).toBeGreaterThan(0);
    for (const pid of servers) {
      const env = environOf(pid);
      expect(env.some((e) => e.startsWith('PORTCULLIS_API_KEY=') || e.includes(CANARY))).toBe(false);
    }
    qs.child.kill('SIGTERM');
    expect(await qs.exited).toBe(0);
  });
});
