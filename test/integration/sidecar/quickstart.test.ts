import { type ChildProcess, spawn } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../../../sidecar/src/quickstart/everything.ts';
import { initializeBody, messageOf, post } from './support/harness.ts';

// `npm start` as a user runs it: the quick start process (everything server + sidecar + a local
// key), the README's three calls (allowed, denied, unauthenticated), and a clean SIGTERM.

const KEY = 'pc_dev_quickstart_test_key';
let child: ChildProcess;
let url: string;
let exited: Promise<number | null>;

beforeAll(async () => {
  const [port, adminPort] = [await freePort(), await freePort()];
  url = `http://127.0.0.1:${port}/mcp`;
  child = spawn(process.execPath, ['sidecar/src/main.ts'], {
    env: {
      ...process.env,
      PORT: String(port),
      ADMIN_PORT: String(adminPort),
      PORTCULLIS_API_KEY: KEY,
      LOG_LEVEL: 'warn',
    },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  exited = new Promise((resolve) => child.once('exit', (code) => resolve(code)));
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
});

afterAll(async () => {
  if (child.exitCode === null) child.kill('SIGKILL');
});

describe('npm start (quick start)', () => {
  it("answers the README's allowed, denied and unauthenticated calls", async () => {
    const init = await post(url, initializeBody(), { 'x-api-key': KEY });
    expect(init.status).toBe(200);
    const h = {
      'x-api-key': KEY,
      'mcp-session-id': init.headers.get('mcp-session-id') as string,
      'mcp-protocol-version': '2025-06-18',
    };
    await post(url, JSON.stringify({ jsonrpc: '2.0', method: 'notifications/initialized' }), h);
    const call = (name: string, args: object) =>
      JSON.stringify({ jsonrpc: '2.0', id: 2, method: 'tools/call', params: { name, arguments: args } });

    const allowed = await post(url, call('echo', { message: 'hi' }), h);
    expect(messageOf(allowed.text)).toMatchObject({ id: 2, result: { content: [{ text: 'Echo: hi' }] } });

    const denied = await post(url, call('get-env', {}), h);
    expect(messageOf(denied.text)).toMatchObject({
      id: 2,
      error: { code: -32003, data: { rule: 'no-environment-dump' } },
    });

    const anonymous = await post(url, initializeBody());
    expect(anonymous.status).toBe(401);
    expect(anonymous.headers.get('www-authenticate')).toContain('/.well-known/oauth-protected-resource/mcp');
  });

  it('stops cleanly on SIGTERM', async () => {
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
  });
});
