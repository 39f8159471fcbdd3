// A real node beside the kwok one: containerd + runc (Debian packages), a kubelet and kube-proxy built
// from the pinned Kubernetes module, routed pod networking with the ptp + host-local CNI plugins. It
// follows the recipe checked by hand on these machines (cgroup v1, restricted oom_score_adj, a local
// sandbox image, a node address of its own). Needs root.
//
// Network rule: pods get routes only to the pod range, the Service range and the node address (no
// default route) and no masquerading, and the host forwards only pod-to-pod traffic, so nothing they
// send leaves the machine.
import { execFile } from 'node:child_process';
import { access, mkdir, mkdtemp, readdir, readFile, rm, rmdir, writeFile } from 'node:fs/promises';
import { connect, createServer, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { freePort } from '../../sidecar/src/quickstart/everything.ts';
import { lock } from '../support/cache.ts';
import { type Child, startChild } from '../support/child-process.ts';
import { type ControlPlane, runKubectl } from './control-plane.ts';

const run = promisify(execFile);
const here = dirname(fileURLToPath(import.meta.url));

export const REAL_NODE = 'portcullis-node-0';
/** Taint of the real node: only pods that tolerate it (the real-pod tests) land there. */
export const REAL_NODE_TAINT = {
  key: 'portcullis.dev/real-node',
  value: 'true',
  effect: 'NoSchedule',
} as const;
// Ranges no network of these machines uses (checked with `ip route`); the node address sits inside the
// pod range's /16 so one route covers both.
export const POD_CIDR = '10.213.0.0/24';
const CLUSTER_CIDR = '10.213.0.0/16';
const SERVICE_CIDR = '10.96.0.0/16'; // kube-apiserver's --service-cluster-ip-range
export const NODE_IP = '10.213.255.1';
// The kernel here has no dummy interfaces: the node address goes on lo (the kubelet refuses only
// loopback addresses, not other addresses of the loopback device).
const NODE_LINK = 'lo';
const FORWARD_CHAIN = 'PORTCULLIS-NODE';
const PAUSE_IMAGE = 'localhost/portcullis/pause:1';

export interface RealNode {
  name: string;
  /** containerd's socket (for `ctr --address`). */
  containerdSocket: string;
  /** Imports an OCI archive into the node's containerd under `ref` (pods use imagePullPolicy: Never). */
  importImage(ref: string, archive: string): Promise<void>;
  stop(): Promise<void>;
}

export interface RealNodeOptions {
  log?: (line: string) => void;
  /**
   * The kubelet's sync period, which also bounds how late a changed ConfigMap reaches a mounted volume
   * (the kubelet re-reads watched ConfigMaps on each pod sync). Short here so the tests see changes fast.
   */
  syncFrequency?: string;
}

const exists = (p: string) =>
  access(p).then(
    () => true,
    () => false,
  );

/** A node process logging to `<dir>/<name>.log`, as the control plane's do. */
function startNodeProcess(name: string, command: string, args: string[], dir: string): Child {
  const log = { file: join(dir, `${name}.log`) };
  return startChild(name, command, args, { stdout: log, stderr: log });
}

async function waitFor(what: string, probe: () => Promise<boolean>, timeoutMs: number, procs: Child[]) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    for (const p of procs) {
      if (p.process.exitCode !== null) {
        const tail = p.output().split('\n').slice(-20).join('\n');
        throw new Error(`${p.name} exited (${p.process.exitCode}) while waiting for ${what}:\n${tail}`);
      }
    }
    if (await probe().catch(() => false)) return;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

/**
 * The sandbox image: a static Go program from ./pause, in a FROM-scratch image, cached as an OCI
 * archive that names it PAUSE_IMAGE (a plain `ctr images import` keeps that name).
 */
async function pauseArchive(cacheDir: string, workDir: string, log: (s: string) => void): Promise<string> {
  const archive = join(cacheDir, 'pause-named-oci.tar');
  if (await exists(archive)) return archive;
  const unlock = await lock(join(cacheDir, '.pause.lock'), log);
  try {
    if (await exists(archive)) return archive;
    const build = join(workDir, 'pause-build');
    await mkdir(build, { recursive: true });
    await run('go', ['build', '-trimpath', '-ldflags=-s -w', '-o', join(build, 'pause'), '.'], {
      cwd: join(here, 'pause'),
      env: { ...process.env, CGO_ENABLED: '0' },
    });
    const buildah = (args: string[]) =>
      run(
        'buildah',
        [
          '--root',
          join(build, 'storage'),
          '--runroot',
          join(build, 'run'),
          '--storage-driver',
          'vfs',
          ...args,
        ],
        { env: { ...process.env, BUILDAH_ISOLATION: 'chroot' } },
      );
    const container = (await buildah(['from', 'scratch'])).stdout.trim();
    await buildah(['copy', container, join(build, 'pause'), '/pause']);
    await buildah(['config', '--entrypoint', '["/pause"]', '--user', '65535:65535', container]);
    await buildah(['commit', '--quiet', container, `oci-archive:${archive}.tmp:${PAUSE_IMAGE}`]);
    await run('mv', [`${archive}.tmp`, archive]);
    await rm(build, { recursive: true, force: true });
    return archive;
  } finally {
    await unlock();
  }
}

function containerdConfig(dir: string, cniDir: string): string {
  return `version = 2
root = "${dir}/root"
state = "${dir}/state"
[grpc]
  address = "${dir}/containerd.sock"
[ttrpc]
  address = "${dir}/containerd.sock.ttrpc"
[debug]
  address = ""
[metrics]
  address = ""
[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = "${PAUSE_IMAGE}"
  # Processes here may not lower their oom_score_adj; without this runc fails every sandbox.
  restrict_oom_score_adj = true
  enable_selinux = false
  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = "/usr/lib/cni"
    conf_dir = "${cniDir}"
  [plugins."io.containerd.grpc.v1.cri".containerd]
    snapshotter = "overlayfs"
    default_runtime_name = "runc"
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"
`;
}

function cniConfig(ipamDir: string): string {
  return JSON.stringify({
    cniVersion: '0.4.0',
    name: 'portcullis',
    plugins: [
      {
        type: 'ptp',
        ipMasq: false,
        ipam: {
          type: 'host-local',
          ranges: [[{ subnet: POD_CIDR }]],
          dataDir: ipamDir,
          routes: [{ dst: CLUSTER_CIDR }, { dst: SERVICE_CIDR }],
        },
      },
    ],
  });
}

function kubeletConfig(o: {
  caCert: string;
  socket: string;
  port: number;
  syncFrequency: string;
  logs: string;
}) {
  return `apiVersion: kubelet.config.k8s.io/v1beta1
kind: KubeletConfiguration
failCgroupV1: false
cgroupDriver: cgroupfs
cgroupsPerQOS: false
enforceNodeAllocatable: []
failSwapOn: false
address: ${NODE_IP}
port: ${o.port}
readOnlyPort: 0
healthzPort: 0
containerRuntimeEndpoint: unix://${o.socket}
podCIDR: ${POD_CIDR}
podLogsDir: ${o.logs}
syncFrequency: ${o.syncFrequency}
configMapAndSecretChangeDetectionStrategy: Watch
registerWithTaints:
- { key: ${REAL_NODE_TAINT.key}, value: "${REAL_NODE_TAINT.value}", effect: ${REAL_NODE_TAINT.effect} }
authentication:
  anonymous: { enabled: false }
  webhook: { enabled: true }
  x509: { clientCAFile: ${o.caCert} }
authorization: { mode: Webhook }
# A shared, busy test machine: never evict test pods or collect their images for pressure.
evictionHard: { memory.available: "1Mi", nodefs.available: "1%", imagefs.available: "1%", nodefs.inodesFree: "1%" }
imageGCHighThresholdPercent: 100
imageGCLowThresholdPercent: 99
serializeImagePulls: false
`;
}

function kubeProxyConfig(kubeconfig: string, healthz: number, metrics: number) {
  return `apiVersion: kubeproxy.config.k8s.io/v1alpha1
kind: KubeProxyConfiguration
mode: iptables
clientConnection: { kubeconfig: ${kubeconfig} }
hostnameOverride: ${REAL_NODE}
clusterCIDR: ${CLUSTER_CIDR}
healthzBindAddress: 127.0.0.1:${healthz}
metricsBindAddress: 127.0.0.1:${metrics}
# Leave the host's conntrack sysctls alone.
conntrack: { maxPerCore: 0, min: 0, tcpEstablishedTimeout: 0s, tcpCloseWaitTimeout: 0s }
`;
}

function kubeRouterArgs(kubeconfig: string): string[] {
  return [
    `--kubeconfig=${kubeconfig}`,
    `--hostname-override=${REAL_NODE}`,
    '--run-firewall=true',
    '--run-router=false',
    '--run-service-proxy=false',
    '--enable-cni=false',
    '--enable-pod-egress=false',
    '--enable-ipv6=false',
    `--service-cluster-ip-range=${SERVICE_CIDR}`,
    '--health-port=0',
    '--metrics-port=0',
  ];
}

async function sh(cmd: string, args: string[]) {
  return run(cmd, args, { maxBuffer: 16 << 20 });
}

/** Mount points at or under `dir`, deepest first. */
async function mountsUnder(dir: string): Promise<string[]> {
  const lines = (await readFile('/proc/self/mountinfo', 'utf8')).split('\n');
  const points = lines
    .map((l) => l.split(' ')[4] ?? '')
    .filter((p) => p === dir || p.startsWith(`${dir}/`) || p.startsWith('/run/netns/cni-'));
  return [...new Set(points)].sort((a, b) => b.length - a.length);
}

/**
 * Pods reach the API server through the `kubernetes` Service, which points at the plane's advertised
 * address (NODE_IP when the plane was started with `advertiseAddress: NODE_IP`) and its port; the API
 * server listens on loopback only, so this relays NODE_IP:port to it. A relay of bytes: TLS and
 * authentication stay end to end.
 */
async function relayApiServer(plane: ControlPlane): Promise<{ close(): Promise<void> }> {
  const port = Number(new URL(plane.server).port);
  const open = new Set<Socket>();
  const relay = createServer((client) => {
    const upstream = connect(port, '127.0.0.1');
    const close = () => {
      client.destroy();
      upstream.destroy();
      open.delete(client);
    };
    open.add(client);
    client.pipe(upstream).pipe(client);
    for (const s of [client, upstream]) s.on('error', close).on('close', close);
  });
  await new Promise<void>((resolve, reject) => {
    relay.once('error', reject);
    relay.listen(port, NODE_IP, resolve);
  });
  return {
    // Watches stay open for minutes: end them rather than wait for them.
    close: () =>
      new Promise((resolve) => {
        relay.close(() => resolve());
        for (const s of open) s.destroy();
      }),
  };
}

export async function startRealNode(plane: ControlPlane, opts: RealNodeOptions = {}): Promise<RealNode> {
  const log = opts.log ?? (() => {});
  if (process.getuid?.() !== 0) throw new Error('the real node needs root (containerd, kubelet, CNI)');
  const started = Date.now();
  const workDir = await mkdtemp(join(tmpdir(), 'portcullis-node-'));
  const ctrdDir = join(workDir, 'containerd');
  const cniDir = join(workDir, 'cni');
  const socket = join(ctrdDir, 'containerd.sock');
  const netnsBefore = new Set(await readdir('/run/netns').catch(() => [] as string[]));
  const forwardBefore = (await readFile('/proc/sys/net/ipv4/ip_forward', 'utf8')).trim();
  const procs: Child[] = [];
  const kubectl = (args: string[], input?: string) =>
    runKubectl(join(plane.binDir, 'kubectl'), plane.kubeconfig, args, input);
  const ctr = (args: string[]) => sh('ctr', ['--address', socket, '-n', 'k8s.io', ...args]);

  let relay: { close(): Promise<void> } | undefined;
  let stopped = false;
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    // Pods first, while the kubelet still runs, so CNI DEL frees addresses and network namespaces. A
    // short grace period: a test's pods have nothing to save, and a server that ignores SIGTERM as
    // PID 1 would otherwise hold the teardown for the default 30 s.
    await kubectl([
      'delete',
      'pods',
      '--all-namespaces',
      `--field-selector=spec.nodeName=${REAL_NODE}`,
      '--grace-period=1',
      '--wait=false',
    ]).catch(() => {});
    const kubelet = procs.find((p) => p.name === 'kubelet');
    if (kubelet) {
      await waitFor(
        'pods on the real node gone',
        // Tasks, not containers: the kubelet keeps exited containers until its garbage collection.
        async () => (await ctr(['tasks', 'ls', '-q']).then((r) => r.stdout.trim())) === '',
        30_000,
        [],
      ).catch((e) => log(String(e)));
    }
    let containerIds: string[] = [];
    for (const p of [...procs].reverse()) {
      // Containers the kubelet did not remove: kill their tasks while containerd still answers (killing
      // a shim alone leaves the container's processes running, reparented to init).
      if (p.name === 'containerd') containerIds = await killTasks(ctr, log);
      await p.stop();
    }
    // Whatever survived: kill the shims (each names our socket on its command line) and the processes
    // left in the containers' cgroups.
    await killContainerCgroups(containerIds);
    for (const pid of await shimPids(socket)) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // Already gone.
      }
    }
    if (procs.some((p) => p.name === 'kube-proxy')) {
      await sh(join(plane.binDir, 'kube-proxy'), [
        '--cleanup',
        `--config=${join(workDir, 'kube-proxy.yaml')}`,
      ]).catch((e) => log(`kube-proxy --cleanup: ${e}`));
    }
    if (procs.some((p) => p.name === 'kube-router')) await removeKubeRouterRules();
    await removeKubeletChains();

    for (const m of await mountsUnder(workDir)) {
      if (m.startsWith('/run/netns/') && netnsBefore.has(m.slice('/run/netns/'.length))) continue;
      await sh('umount', ['-l', m]).catch(() => {});
      if (m.startsWith('/run/netns/')) await rm(m, { force: true });
    }
    await relay?.close();
    await sh('ip', ['addr', 'del', `${NODE_IP}/32`, 'dev', NODE_LINK]).catch(() => {});
    await writeFile('/proc/sys/net/ipv4/ip_forward', forwardBefore).catch(() => {});
    await removeForwardChain();
    await kubectl(['delete', 'node', REAL_NODE, '--wait=false']).catch(() => {});
    await rm(workDir, { recursive: true, force: true }).catch((e) =>
      log(`could not remove ${workDir}: ${e}`),
    );
  };

  try {
    await mkdir(ctrdDir, { recursive: true });
    await mkdir(cniDir, { recursive: true });
    await writeFile(join(ctrdDir, 'config.toml'), containerdConfig(ctrdDir, cniDir));
    await writeFile(join(cniDir, '10-portcullis.conflist'), cniConfig(join(workDir, 'cni-ipam')));
    await sh('ip', ['addr', 'del', `${NODE_IP}/32`, 'dev', NODE_LINK]).catch(() => {}); // a crashed earlier run's
    await removeForwardChain();
    await sh('ip', ['addr', 'add', `${NODE_IP}/32`, 'dev', NODE_LINK]);
    relay = await relayApiServer(plane);
    // Pod-to-Service traffic is DNATed on the host and routed to the other pod's veth; nothing else
    // to or from the pod range is forwarded. RETURN, not ACCEPT: the NetworkPolicy chains that follow
    // in FORWARD still judge pod-to-pod traffic.
    await sh('iptables', ['-N', FORWARD_CHAIN]);
    await sh('iptables', ['-A', FORWARD_CHAIN, '-s', POD_CIDR, '-d', POD_CIDR, '-j', 'RETURN']);
    await sh('iptables', ['-A', FORWARD_CHAIN, '-s', POD_CIDR, '-j', 'DROP']);
    await sh('iptables', ['-A', FORWARD_CHAIN, '-d', POD_CIDR, '-j', 'DROP']);
    await sh('iptables', ['-I', 'FORWARD', '1', '-j', FORWARD_CHAIN]);
    await writeFile('/proc/sys/net/ipv4/ip_forward', '1');

    const pause = await pauseArchive(plane.binDir, workDir, log);
    procs.push(
      startNodeProcess('containerd', 'containerd', ['--config', join(ctrdDir, 'config.toml')], workDir),
    );
    await waitFor('containerd', () => ctr(['version']).then(() => true), 30_000, procs);
    // A plain import names the image after the archive's org.opencontainers.image.ref.name (buildah
    // writes it on push); `--index-name` fails on these archives with ctr 1.6.
    const importImage = async (ref: string, archive: string) => {
      await ctr(['images', 'import', archive]);
      const names = (await ctr(['images', 'ls', '-q'])).stdout.split('\n');
      if (!names.includes(ref)) throw new Error(`${archive} holds no image named ${ref}`);
    };
    await importImage(PAUSE_IMAGE, pause);

    const [kubeletPort, proxyHealthz, proxyMetrics] = await Promise.all([freePort(), freePort(), freePort()]);
    await writeFile(
      join(workDir, 'kubelet.yaml'),
      kubeletConfig({
        caCert: plane.caCert,
        socket,
        port: kubeletPort,
        syncFrequency: opts.syncFrequency ?? '10s',
        logs: join(workDir, 'pod-logs'),
      }),
    );
    procs.push(
      startNodeProcess(
        'kubelet',
        join(plane.binDir, 'kubelet'),
        [
          `--config=${join(workDir, 'kubelet.yaml')}`,
          `--kubeconfig=${plane.kubeconfig}`,
          `--root-dir=${join(workDir, 'kubelet')}`,
          `--cert-dir=${join(workDir, 'kubelet-pki')}`,
          `--hostname-override=${REAL_NODE}`,
          `--node-ip=${NODE_IP}`,
          '--node-labels=portcullis.dev/node=real',
        ],
        workDir,
      ),
    );
    await writeFile(
      join(workDir, 'kube-proxy.yaml'),
      kubeProxyConfig(plane.kubeconfig, proxyHealthz, proxyMetrics),
    );
    procs.push(
      startNodeProcess(
        'kube-proxy',
        join(plane.binDir, 'kube-proxy'),
        [`--config=${join(workDir, 'kube-proxy.yaml')}`],
        workDir,
      ),
    );
    await waitFor(
      `node ${REAL_NODE} Ready`,
      async () =>
        (await kubectl([
          'get',
          'node',
          REAL_NODE,
          '-o',
          'jsonpath={.status.conditions[?(@.type=="Ready")].status}',
        ])) === 'True',
      120_000,
      procs,
    );
    // NetworkPolicy: kube-router's firewall alone (no routing, no service proxy, no CNI of its own);
    // it filters traffic to and from the node's pods with iptables chains and ipsets. It looks its
    // node up at start, so it starts once the node is registered.
    procs.push(
      startNodeProcess(
        'kube-router',
        join(plane.binDir, 'kube-router'),
        [...kubeRouterArgs(plane.kubeconfig), '--iptables-sync-period=30s'],
        workDir,
      ),
    );
    await waitFor(
      'kube-router filtering',
      async () =>
        (await sh('iptables', ['-S', 'KUBE-ROUTER-FORWARD'])).stdout.includes('-N KUBE-ROUTER-FORWARD'),
      60_000,
      procs,
    );
    log(`real node ${REAL_NODE} ready in ${((Date.now() - started) / 1000).toFixed(1)} s`);
    return { name: REAL_NODE, containerdSocket: socket, importImage, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}

async function removeForwardChain() {
  await sh('iptables', ['-D', 'FORWARD', '-j', FORWARD_CHAIN]).catch(() => {});
  await sh('iptables', ['-F', FORWARD_CHAIN]).catch(() => {});
  await sh('iptables', ['-X', FORWARD_CHAIN]).catch(() => {});
}

/**
 * The kubelet adds chains of its own to the host's iptables (a canary per table, and KUBE-FIREWALL,
 * which drops outside traffic to 127.0.0.0/8) and nothing removes them when it stops; kube-proxy's
 * --cleanup covers only kube-proxy's.
 */
async function removeKubeletChains() {
  for (const cmd of ['iptables', 'ip6tables']) {
    const ipt = (args: string[]) => sh(cmd, args).catch(() => {});
    for (const hook of ['INPUT', 'OUTPUT']) await ipt(['-t', 'filter', '-D', hook, '-j', 'KUBE-FIREWALL']);
    await ipt(['-t', 'filter', '-F', 'KUBE-FIREWALL']);
    await ipt(['-t', 'filter', '-X', 'KUBE-FIREWALL']);
    for (const table of ['mangle', 'nat', 'filter']) {
      await ipt(['-t', table, '-X', 'KUBE-KUBELET-CANARY']);
      await ipt(['-t', table, '-X', 'KUBE-IPTABLES-HINT']);
    }
  }
}

/** Kills and deletes every task of the node's containerd; returns the ids of all its containers. */
async function killTasks(ctr: (args: string[]) => Promise<{ stdout: string }>, log: (l: string) => void) {
  const ids = await ctr(['containers', 'ls', '-q']).then(
    (r) => r.stdout.split('\n').filter(Boolean),
    () => [] as string[],
  );
  for (const id of ids) {
    await ctr(['tasks', 'kill', '--signal', 'SIGKILL', id]).catch(() => {});
    await ctr(['tasks', 'delete', '--force', id]).catch(() => {});
    await ctr(['containers', 'delete', id]).catch((e) => log(`container ${id}: ${e}`));
  }
  return ids;
}

/**
 * The CRI puts each container in the cgroup k8s.io/ID of every v1 hierarchy (cgroupfs driver, no
 * QoS parents): kill what is still in those of our containers, then remove the empty cgroups.
 */
async function killContainerCgroups(ids: string[]) {
  const hierarchies = await readdir('/sys/fs/cgroup').catch(() => [] as string[]);
  for (const id of ids) {
    const procsFile = `/sys/fs/cgroup/pids/k8s.io/${id}/cgroup.procs`;
    for (const pid of (await readFile(procsFile, 'utf8').catch(() => '')).split('\n').filter(Boolean)) {
      try {
        process.kill(Number(pid), 'SIGKILL');
      } catch {
        // Already gone.
      }
    }
  }
  if (ids.length > 0) await new Promise((r) => setTimeout(r, 200)); // the kernel reaps them
  for (const h of hierarchies) {
    for (const id of ids) await rmdir(`/sys/fs/cgroup/${h}/k8s.io/${id}`).catch(() => {});
    await rmdir(`/sys/fs/cgroup/${h}/k8s.io`).catch(() => {}); // the parent, once empty
  }
}

/**
 * kube-router's own `--cleanup-config` panics in v2.1.0 when its service proxy never ran (nil pointer
 * in the hairpin cleanup), so its chains (KUBE-ROUTER-*, KUBE-NWPLCY-*, KUBE-POD-FW-*) and ipsets are
 * removed here: unhooked from the built-in chains, flushed, deleted.
 */
async function removeKubeRouterRules() {
  const ours = /^(KUBE-ROUTER-|KUBE-NWPLCY-|KUBE-POD-FW-|KUBE-SRC-|KUBE-DST-)/;
  for (const table of ['filter', 'nat', 'mangle']) {
    const rules = (await sh('iptables-save', ['-t', table]).catch(() => ({ stdout: '' }))).stdout.split('\n');
    const chains = rules.filter((l) => l.startsWith(':')).map((l) => l.slice(1).split(' ')[0] as string);
    for (const rule of rules) {
      const m = /^-A (INPUT|FORWARD|OUTPUT|PREROUTING|POSTROUTING) (.*-j (\S+).*)$/.exec(rule);
      if (m && ours.test(m[3] as string)) {
        await sh('iptables', ['-t', table, '-D', m[1] as string, ...splitRule(m[2] as string)]).catch(
          () => {},
        );
      }
    }
    const mine = chains.filter((c) => ours.test(c));
    for (const chain of mine) await sh('iptables', ['-t', table, '-F', chain]).catch(() => {});
    for (const chain of mine) await sh('iptables', ['-t', table, '-X', chain]).catch(() => {});
  }
  const sets = (await sh('ipset', ['list', '-n']).catch(() => ({ stdout: '' }))).stdout.split('\n');
  for (const set of sets.filter((n) => /^(KUBE-|kube-router-)/.test(n))) {
    await sh('ipset', ['destroy', set]).catch(() => {});
  }
}

/** An iptables-save rule's arguments (a quoted comment stays one argument). */
function splitRule(rule: string): string[] {
  return [...rule.matchAll(/"([^"]*)"|(\S+)/g)].map((m) => (m[1] ?? m[2]) as string);
}

async function shimPids(socket: string): Promise<number[]> {
  const pids: number[] = [];
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const cmdline = await readFile(`/proc/${entry}/cmdline`, 'utf8').catch(() => '');
    if (cmdline.includes('containerd-shim') && cmdline.includes(socket)) pids.push(Number(entry));
  }
  return pids;
}
