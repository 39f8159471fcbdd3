import type { ChildProcess } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { stringify } from 'yaml';
import type { SidecarConfig } from '../../sidecar/src/contract/config.ts';
import { everythingEntry, freePort, startEverything } from '../../sidecar/src/quickstart/everything.ts';
import { stopChild, waitUntilServing } from '../support/child-process.ts';
import { allow, KEYS, rawConfig } from '../support/harness.ts';
import { startLauncher } from '../support/launcher.ts';
import { startProcess } from './processes.ts';

// Part 3 of npm run bench:sidecar: the everything server over stdio (through the launcher, as in a
// pod) against the same server over Streamable HTTP, each behind its own sidecar process (audit
// off: the transport is what is compared). Rows: the latency of one caller's echo calls, the two
// paths alternating call by call; throughput of SESSIONS callers each in its own session (so over
// stdio, each with its own process); and session start-up (initialize to the first answer) with
// no warm pool (a process starts per session) and with one (a process is waiting).
// Knobs: BENCH_STDIO=off skips it; BENCH_STDIO_CALLS (2000), BENCH_STDIO_SESSIONS (8),
// BENCH_STDIO_STARTS (20), BENCH_DURATION_MS (3000).

const CALLS = Number(process.env.BENCH_STDIO_CALLS ?? 2000);
const SESSIONS = Number(process.env.BENCH_STDIO_SESSIONS ?? 8);
const STARTS = Number(process.env.BENCH_STDIO_STARTS ?? 20);
const DURATION_MS = Number(process.env.BENCH_DURATION_MS ?? 3000);

export interface StdioBenchRows {
  latency: { transport: string; p50Ms: number; p99Ms: number }[];
  addedP50Ms: number;
  addedP99Ms: number;
  throughput: { transport: string; sessions: number; rps: number; errors: number }[];
  startup: { pool: 'cold' | 'warm'; p50Ms: number; p99Ms: number }[];
}

const quantile = (xs: number[], q: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(q * s.length))] ?? Number.NaN;
};

async function client(url: string): Promise<Client> {
  const c = new Client({ name: 'bench', version: '1' });
  await c.connect(
    new StreamableHTTPClientTransport(new URL(url), {
      requestInit: { headers: { 'x-api-key': KEYS.alice } },
    }),
  );
  return c;
}

const echo = (c: Client) => c.callTool({ name: 'echo', arguments: { message: 'bench' } });

async function sidecarProcess(dir: string, name: string, upstream: SidecarConfig['upstream']) {
  const port = await freePort();
  const adminPort = await freePort();
  const cfg = rawConfig({ upstream, rules: [allow('all', { tools: ['*'] })] });
  cfg.listen = { ...cfg.listen, host: '127.0.0.1', port };
  cfg.admin = { host: '127.0.0.1', port: adminPort };
  const file = join(dir, `${name}.yaml`);
  await writeFile(file, stringify(cfg));
  const { child } = startProcess(['test/bench/sidecar-process.ts', '--config', file, '--audit', 'off'], {
    env: { OTEL_SDK_DISABLED: 'true', ...process.env, LOG_LEVEL: 'warn' },
    stdout: 'ignore',
  });
  await waitUntilServing(child, `http://127.0.0.1:${adminPort}/readyz`);
  return { child, url: `http://127.0.0.1:${port}${cfg.listen.path}` };
}

const stdioUpstream = (socket: string, warm: number): SidecarConfig['upstream'] => ({
  transport: 'stdio',
  launcher: { socket },
  processes: { maxProcesses: SESSIONS + 4, warm, idleTimeoutMs: 600_000, stopGraceMs: 5_000 },
  connectTimeoutMs: 5_000,
  requestTimeoutMs: 60_000,
});

async function startupTimes(url: string, warm: boolean): Promise<number[]> {
  const times: number[] = [];
  for (let i = 0; i < STARTS; i++) {
    // Let the pool refill, so each warm session finds a process waiting.
    if (warm) await new Promise((r) => setTimeout(r, 1500));
    const t0 = performance.now();
    const c = await client(url);
    times.push(performance.now() - t0);
    await (c.transport as StreamableHTTPClientTransport).terminateSession();
    await c.close();
  }
  return times;
}

export async function benchStdio(): Promise<StdioBenchRows> {
  const dir = await mkdtemp(join(tmpdir(), 'portcullis-bench-stdio-'));
  const children: ChildProcess[] = [];
  const http = await startEverything('streamableHttp');
  const launcher = await startLauncher(process.execPath, [everythingEntry(), 'stdio']);
  try {
    const overHttp = await sidecarProcess(dir, 'http', {
      transport: 'streamable-http',
      url: http.url,
      connectTimeoutMs: 5_000,
      requestTimeoutMs: 60_000,
    });
    const overStdio = await sidecarProcess(dir, 'stdio', stdioUpstream(launcher.socket, 0));
    const warmStdio = await sidecarProcess(dir, 'stdio-warm', stdioUpstream(launcher.socket, 1));
    children.push(overHttp.child, overStdio.child, warmStdio.child);

    // Latency: one caller on each path, alternating, after a warm-up.
    const a = await client(overHttp.url);
    const b = await client(overStdio.url);
    for (let i = 0; i < 200; i++) await Promise.all([echo(a), echo(b)]);
    const ms: Record<'http' | 'stdio', number[]> = { http: [], stdio: [] };
    for (let i = 0; i < CALLS; i++) {
      for (const [k, c] of [
        ['http', a],
        ['stdio', b],
      ] as const) {
        const t0 = performance.now();
        await echo(c);
        ms[k].push(performance.now() - t0);
      }
    }
    await a.close();
    await b.close();

    // Throughput: SESSIONS callers, each its own session, calling as fast as answered.
    const throughput: StdioBenchRows['throughput'] = [];
    for (const [transport, url] of [
      ['streamable-http', overHttp.url],
      ['stdio', overStdio.url],
    ] as const) {
      const clients = await Promise.all(Array.from({ length: SESSIONS }, () => client(url)));
      let calls = 0;
      let errors = 0;
      const end = performance.now() + DURATION_MS;
      await Promise.all(
        clients.map(async (c) => {
          while (performance.now() < end) {
            await echo(c).then(
              () => calls++,
              () => errors++,
            );
          }
        }),
      );
      throughput.push({ transport, sessions: SESSIONS, rps: (calls * 1000) / DURATION_MS, errors });
      await Promise.all(clients.map((c) => c.close()));
    }

    const cold = await startupTimes(overStdio.url, false);
    const warm = await startupTimes(warmStdio.url, true);
    const row = (k: 'http' | 'stdio', transport: string) => ({
      transport,
      p50Ms: quantile(ms[k], 0.5),
      p99Ms: quantile(ms[k], 0.99),
    });
    return {
      latency: [row('http', 'streamable-http'), row('stdio', 'stdio')],
      addedP50Ms: quantile(ms.stdio, 0.5) - quantile(ms.http, 0.5),
      addedP99Ms: quantile(ms.stdio, 0.99) - quantile(ms.http, 0.99),
      throughput,
      startup: [
        { pool: 'cold', p50Ms: quantile(cold, 0.5), p99Ms: quantile(cold, 0.99) },
        { pool: 'warm', p50Ms: quantile(warm, 0.5), p99Ms: quantile(warm, 0.99) },
      ],
    };
  } finally {
    await Promise.all(children.map((c) => stopChild(c)));
    await launcher.stop();
    await http.close();
    await rm(dir, { recursive: true, force: true });
  }
}

export function printStdio(r: StdioBenchRows, fmt: (n: number, digits?: number) => string): void {
  console.log('\nstdio (everything server, through the launcher) vs Streamable HTTP, each behind a sidecar');
  console.log('transport       | p50/p99 ms (1 caller) | rps (sessions)');
  for (const l of r.latency) {
    const t = r.throughput.find((x) => x.transport === l.transport);
    console.log(
      `${l.transport.padEnd(15)} | ${`${fmt(l.p50Ms)}/${fmt(l.p99Ms)}`.padEnd(21)} | ${fmt(t?.rps ?? Number.NaN, 0)} (${t?.sessions}), errors ${t?.errors}`,
    );
  }
  console.log(`stdio added p50/p99 ms: ${fmt(r.addedP50Ms)}/${fmt(r.addedP99Ms)}`);
  console.log('session start-up | p50/p99 ms');
  for (const s of r.startup) console.log(`${s.pool.padEnd(16)} | ${fmt(s.p50Ms)}/${fmt(s.p99Ms)}`);
}
