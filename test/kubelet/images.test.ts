import { execFile, spawn } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { formatIssues, validateConfig } from '../../sidecar/src/config/load.ts';
import { freePort } from '../../sidecar/src/quickstart/everything.ts';
import { type BuiltImage, type BuiltImages, buildImages, imageEntrypoint } from '../images/build.ts';
import { KEYS, rawConfig } from '../support/harness.ts';

// Every image the real-node tests use, run in a real runtime before any kubelet: Debian's containerd
// (its own root, state and socket in a temporary folder) running each container hardened as the
// chart runs them: the image's non-root user, read-only root filesystem, every capability dropped,
// the default seccomp profile, and only tmpfs (emptyDir-like) writable paths. Host networking keeps
// all traffic on loopback.

const run = promisify(execFile);
const NS = 'portcullis-images';

let images: BuiltImages;
let dir: string;
let containerd: ReturnType<typeof spawn>;
let socket: string;
const started: string[] = [];

const ctr = (...args: string[]) => run('ctr', ['--address', socket, '--namespace', NS, ...args]);

interface Container {
  id: string;
  log: () => Promise<string>;
  /** Waits for the task to exit; returns its exit status. */
  exited: Promise<number>;
}

/** Runs a shell script inside a running container (same user and restrictions as its process). */
async function exec(container: Container, script: string): Promise<string> {
  const { stdout } = await ctr(
    'task',
    'exec',
    '--exec-id',
    `x${Date.now()}`,
    container.id,
    'sh',
    '-c',
    script,
  );
  return stdout;
}

/** What the kernel says about the container's main process, and whether its root is writable. */
async function expectHardened(container: Container) {
  const status = await exec(container, 'cat /proc/1/status');
  const field = (name: string) => new RegExp(`^${name}:\\s*(.*)$`, 'm').exec(status)?.[1]?.trim();
  expect(field('Uid')?.split(/\s+/)).toEqual(['65532', '65532', '65532', '65532']);
  for (const caps of ['CapInh', 'CapPrm', 'CapEff', 'CapBnd', 'CapAmb'])
    expect(field(caps)).toBe('0000000000000000');
  expect(field('Seccomp')).toBe('2');
  expect(await exec(container, 'touch /probe 2>&1 || true')).toContain('Read-only file system');
  expect(await exec(container, 'touch /tmp/probe && echo writable')).toContain('writable');
}

async function start(
  image: BuiltImage,
  args: string[] = [],
  opts: { env?: Record<string, string>; mounts?: string[] } = {},
): Promise<Container> {
  const id = `t${started.length}-${process.pid}`;
  started.push(id);
  const logFile = join(dir, `${id}.log`);
  const flags = [
    '--net-host',
    '--read-only',
    '--cap-drop',
    'ALL',
    '--seccomp',
    '--log-uri',
    `file://${logFile}`,
    '--mount',
    'type=tmpfs,src=tmpfs,dst=/tmp,options=rw:nosuid:nodev:size=16m',
    ...(opts.mounts ?? []).flatMap((m) => ['--mount', m]),
    ...Object.entries(opts.env ?? {}).flatMap(([k, v]) => ['--env', `${k}=${v}`]),
  ];
  // ctr's arguments replace the image's ENTRYPOINT, so they start with it: the image's own command runs.
  // Not detached: ctr 1.6 has no `task wait`, but a foreground `ctr run` exits with the task's status.
  const entrypoint = await imageEntrypoint(image);
  const client = spawn(
    'ctr',
    ['--address', socket, '--namespace', NS, 'run', ...flags, image.ref, id, ...entrypoint, ...args],
    { stdio: 'ignore' },
  );
  const exited = new Promise<number>((resolve, reject) => {
    client.once('error', reject);
    client.once('exit', (code, signal) => resolve(code ?? (signal ? -1 : 0)));
  });
  exited.catch(() => undefined);
  await waitForTask(id, exited);
  return { id, log: () => readFile(logFile, 'utf8').catch(() => ''), exited };
}

/** Until containerd lists the task as running; fails early when `ctr run` has already returned. */
async function waitForTask(id: string, exited: Promise<number>) {
  let code: number | undefined;
  exited.then((c) => (code = c)).catch(() => undefined);
  const deadline = Date.now() + 30_000;
  for (;;) {
    const { stdout } = await ctr('task', 'ls');
    if (new RegExp(`^${id}\\s+\\d+\\s+RUNNING`, 'm').test(stdout)) return;
    if (code !== undefined) return; // it ran and exited: the caller reads the status
    if (Date.now() > deadline) throw new Error(`task ${id} never started`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function waitFor(url: string, container: Container, init?: RequestInit): Promise<Response> {
  const deadline = Date.now() + 60_000;
  for (;;) {
    try {
      return await fetch(url, init);
    } catch (err) {
      if (Date.now() > deadline)
        throw new Error(`${url} never answered: ${(err as Error).message}\n${await container.log()}`);
      await new Promise((r) => setTimeout(r, 250));
    }
  }
}

const initialize = (headers: Record<string, string> = {}): RequestInit => ({
  method: 'POST',
  headers: {
    'content-type': 'application/json',
    accept: 'application/json, text/event-stream',
    ...headers,
  },
  body: JSON.stringify({
    jsonrpc: '2.0',
    id: 1,
    method: 'initialize',
    params: {
      protocolVersion: '2025-06-18',
      capabilities: {},
      clientInfo: { name: 'images-test', version: '1' },
    },
  }),
});

beforeAll(async () => {
  images = await buildImages({ log: (l) => process.stderr.write(`${l}\n`) });
  dir = await mkdtemp(join(tmpdir(), 'portcullis-images-'));
  socket = join(dir, 'containerd.sock');
  const config = join(dir, 'containerd.toml');
  // No CRI here: this containerd only runs the tests' own containers.
  await writeFile(config, 'version = 2\ndisabled_plugins = ["io.containerd.grpc.v1.cri"]\n');
  containerd = spawn(
    'containerd',
    ['--config', config, '--root', join(dir, 'root'), '--state', join(dir, 'state'), '--address', socket],
    { stdio: 'ignore' },
  );
  const deadline = Date.now() + 30_000;
  while ((await ctr('version').catch(() => undefined)) === undefined) {
    if (Date.now() > deadline) throw new Error('containerd did not start');
    await new Promise((r) => setTimeout(r, 200));
  }
  // The bases only feed builds; the test runs the rest.
  for (const name of ['sidecar', 'operator', 'everything', 'python'] as const) {
    const image = images[name];
    await ctr('images', 'import', image.archive); // named by the archive's ref.name annotation
  }
}, 1_800_000);

afterAll(async () => {
  for (const id of started) {
    await ctr('task', 'kill', '--signal', 'SIGKILL', id).catch(() => undefined);
    await ctr('task', 'delete', '--force', id).catch(() => undefined);
    await ctr('container', 'delete', id).catch(() => undefined);
  }
  containerd?.kill('SIGTERM');
  await new Promise((r) => (containerd?.exitCode === null ? containerd.once('exit', r) : r(undefined)));
  if (dir) {
    await run('umount', ['-R', join(dir, 'state')]).catch(() => undefined);
    await rm(dir, { recursive: true, force: true }).catch(() => undefined);
  }
});

describe('images in a hardened container runtime', () => {
  let everythingPort: number;
  let everything: Container;

  it('the everything server serves Streamable HTTP', async () => {
    everythingPort = await freePort();
    everything = await start(images.everything, [], { env: { PORT: String(everythingPort) } });
    const res = await waitFor(`http://127.0.0.1:${everythingPort}/mcp`, everything, initialize());
    expect(res.status).toBe(200);
    expect(await res.text()).toContain('"serverInfo"');
    await expectHardened(everything);
  });

  it('the sidecar serves from a config, refuses without a credential, and drains and flushes audit on SIGTERM', async () => {
    const [port, adminPort] = [await freePort(), await freePort()];
    const raw = rawConfig({
      upstream: { transport: 'streamable-http', url: `http://127.0.0.1:${everythingPort}/mcp` },
      canonicalUri: `http://127.0.0.1:${port}/mcp`,
    });
    const config = {
      ...raw,
      listen: { host: '127.0.0.1', port, path: '/mcp' },
      admin: { host: '127.0.0.1', port: adminPort },
      telemetry: { tracing: { enabled: false } },
    };
    const checked = validateConfig(config);
    if (!checked.ok) throw new Error(formatIssues(checked.issues));
    const configDir = join(dir, 'sidecar-config');
    await run('mkdir', ['-p', configDir]);
    await writeFile(join(configDir, 'sidecar.yaml'), stringify(config));
    const sidecar = await start(images.sidecar, ['--config', '/etc/portcullis/sidecar.yaml'], {
      mounts: [`type=bind,src=${configDir},dst=/etc/portcullis,options=rbind:ro`],
    });
    const health = await waitFor(`http://127.0.0.1:${adminPort}/healthz`, sidecar);
    expect(health.status).toBe(200);
    const url = `http://127.0.0.1:${port}/mcp`;
    expect((await fetch(url, initialize())).status).toBe(401);
    const ok = await fetch(url, initialize({ authorization: `Bearer ${KEYS.alice}` }));
    expect(ok.status).toBe(200);
    expect(await ok.text()).toContain('"serverInfo"');
    await expectHardened(sidecar);

    await ctr('task', 'kill', '--signal', 'SIGTERM', sidecar.id);
    expect(await sidecar.exited).toBe(0);
    const log = await sidecar.log();
    expect(log).toContain('shutting down');
    // The audit events of the calls above reached stdout before the process exited.
    const audit = log.split('\n').filter((l) => l.includes('"schema":"portcullis.dev/audit/'));
    expect(audit.some((l) => l.includes('"initialize"') && l.includes('alice'))).toBe(true);
  });

  it('the operator image starts its main and says clearly that it has no cluster to reach', async () => {
    const operator = await start(images.operator, ['--sidecar-image', images.sidecar.ref]);
    expect(await operator.exited).not.toBe(0);
    expect(await operator.log()).toContain('no kubeconfig given and not running in a cluster');
  });

  it('the Python server serves Streamable HTTP and its image holds no Node', async () => {
    const port = await freePort();
    const python = await start(images.python, [], { env: { PORT: String(port) } });
    const res = await waitFor(`http://127.0.0.1:${port}/mcp`, python, initialize());
    expect(res.status).toBe(200);
    expect(await res.text()).toContain('"serverInfo"');
    await expectHardened(python);
    // No Node anywhere: not on PATH, no binary or library by that name in the filesystem.
    const found = await exec(
      python,
      'command -v node nodejs; find / -xdev \\( -name node -o -name nodejs -o -name "libnode*" \\) 2>/dev/null; true',
    );
    expect(found.trim()).toBe('');
    expect(await exec(python, 'python3 -c "import mcp, sys; print(sys.version_info[0])"')).toContain('3');
  });
});
