// A real Kubernetes control plane on loopback for the tests: etcd, kube-apiserver,
// kube-controller-manager (garbage collection, ReplicaSets, ServiceAccounts), kube-scheduler, and
// kwok, which plays the kubelet for one fake node so scheduled pods turn Running and Ready.
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { request as httpsRequest } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '../../sidecar/src/quickstart/everything.ts';
import { type Child, startChild } from '../support/child-process.ts';
import { ensureClusterBinaries } from './binaries.ts';
import { generatePki } from './pki.ts';

export interface ControlPlane {
  /** Path of an admin kubeconfig (client certificate in system:masters). */
  kubeconfig: string;
  server: string;
  /** The service-account token issuer (its discovery document is served by the apiserver). */
  serviceAccountIssuer: string;
  caCert: string;
  binDir: string;
  workDir: string;
  /** Stops kube-apiserver and starts it again on the same port and etcd: watches break, state stays. */
  restartApiServer(): Promise<void>;
  stop(): Promise<void>;
}

export interface ControlPlaneOptions {
  log?: (line: string) => void;
  /** Keep the data folder after stop (for debugging). */
  keepWorkDir?: boolean;
  /** More kube-apiserver flags (e.g. a short --etcd-compaction-interval, so old watches expire). */
  apiServerArgs?: string[];
  /**
   * The address the `kubernetes` Service points pods at (default 127.0.0.1, which no pod can reach).
   * The real node passes its node address and forwards it to the loopback port (startRealNode).
   */
  advertiseAddress?: string;
}

export const FAKE_NODE = 'kwok-node-0';

async function waitFor(what: string, probe: () => Promise<boolean>, timeoutMs: number, procs: Child[]) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    for (const p of procs) {
      if (p.process.exitCode !== null) {
        const tail = p.output().split('\n').slice(-15).join('\n');
        throw new Error(`${p.name} exited (${p.process.exitCode}) while waiting for ${what}:\n${tail}`);
      }
    }
    if (await probe().catch(() => false)) return;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

function kubeconfigYaml(server: string, ca: string, cert: string, key: string): string {
  const b64 = (s: string) => Buffer.from(s).toString('base64');
  return `apiVersion: v1
kind: Config
clusters:
- name: portcullis-test
  cluster: { server: "${server}", certificate-authority-data: "${b64(ca)}" }
users:
- name: admin
  user: { client-certificate-data: "${b64(cert)}", client-key-data: "${b64(key)}" }
contexts:
- name: portcullis-test
  context: { cluster: portcullis-test, user: admin, namespace: default }
current-context: portcullis-test
`;
}

const fakeNode = `apiVersion: v1
kind: Node
metadata:
  name: ${FAKE_NODE}
  annotations: { kwok.x-k8s.io/node: fake, node.alpha.kubernetes.io/ttl: "0" }
  labels: { type: kwok, kubernetes.io/hostname: ${FAKE_NODE}, kubernetes.io/os: linux, kubernetes.io/arch: amd64 }
status:
  allocatable: { cpu: "1000", memory: 4Ti, pods: "5000" }
  capacity: { cpu: "1000", memory: 4Ti, pods: "5000" }
`;

export async function startControlPlane(opts: ControlPlaneOptions = {}): Promise<ControlPlane> {
  const log = opts.log ?? (() => {});
  const started = Date.now();
  const bins = await ensureClusterBinaries(log);
  const workDir = await mkdtemp(join(tmpdir(), 'portcullis-cp-'));
  const procs: Child[] = [];
  // Each component logs to <name>.log in the work folder.
  const startProcess = (name: string, command: string, args: string[]) => {
    const log = { file: join(workDir, `${name}.log`) };
    return startChild(name, command, args, { stdout: log, stderr: log });
  };
  const stop = async () => {
    for (const p of [...procs].reverse()) await p.stop();
    if (!opts.keepWorkDir) await rm(workDir, { recursive: true, force: true });
  };
  try {
    const pki = await generatePki(workDir);
    const [etcdPort, peerPort, apiPort, kwokPort] = await Promise.all([
      freePort(),
      freePort(),
      freePort(),
      freePort(),
    ]);
    const server = `https://127.0.0.1:${apiPort}`;
    const [ca, cert, key] = await Promise.all(
      [pki.caCert, pki.adminCert, pki.adminKey].map((f) => readFile(f, 'utf8')),
    );
    const kubeconfig = join(workDir, 'kubeconfig');
    await writeFile(kubeconfig, kubeconfigYaml(server, ca as string, cert as string, key as string), {
      mode: 0o600,
    });

    const etcd = startProcess('etcd', bins.path('etcd'), [
      `--data-dir=${join(workDir, 'etcd')}`,
      `--listen-client-urls=http://127.0.0.1:${etcdPort}`,
      `--advertise-client-urls=http://127.0.0.1:${etcdPort}`,
      `--listen-peer-urls=http://127.0.0.1:${peerPort}`,
      `--initial-advertise-peer-urls=http://127.0.0.1:${peerPort}`,
      `--initial-cluster=default=http://127.0.0.1:${peerPort}`,
      '--unsafe-no-fsync', // test data is thrown away; fsync only slows the tests
      '--log-level=warn',
    ]);
    procs.push(etcd);
    await waitFor(
      'etcd health',
      async () =>
        ((await (await fetch(`http://127.0.0.1:${etcdPort}/health`)).json()) as { health: string }).health ===
        'true',
      30_000,
      procs,
    );

    const apiServerArgs = [
      `--etcd-servers=http://127.0.0.1:${etcdPort}`,
      '--bind-address=127.0.0.1',
      `--advertise-address=${opts.advertiseAddress ?? '127.0.0.1'}`,
      `--secure-port=${apiPort}`,
      `--tls-cert-file=${pki.servingCert}`,
      `--tls-private-key-file=${pki.servingKey}`,
      `--client-ca-file=${pki.caCert}`,
      `--service-account-issuer=${server}`,
      `--service-account-key-file=${pki.serviceAccountPub}`,
      `--service-account-signing-key-file=${pki.serviceAccountKey}`,
      '--service-cluster-ip-range=10.96.0.0/16',
      '--authorization-mode=RBAC',
      `--cert-dir=${join(workDir, 'apiserver-certs')}`,
      '--enable-priority-and-fairness=false',
      '--profiling=false',
      // For logs, exec and port-forward on the real node: the apiserver authenticates to kubelets.
      `--kubelet-client-certificate=${pki.adminCert}`,
      `--kubelet-client-key=${pki.adminKey}`,
      '--kubelet-preferred-address-types=InternalIP',
      ...(opts.apiServerArgs ?? []),
    ];
    const startApiServer = async () => {
      const apiserver = startProcess('kube-apiserver', bins.path('kube-apiserver'), apiServerArgs);
      procs.splice(1, 0, apiserver); // after etcd: stop() ends processes in reverse order
      await waitFor(
        'kube-apiserver /readyz',
        () => getOk(server, '/readyz', pki.caCert, cert as string, key as string),
        90_000,
        procs,
      );
    };
    const restartApiServer = async () => {
      const [apiserver] = procs.splice(1, 1);
      if (apiserver) await apiserver.stop();
      await startApiServer();
    };
    await startApiServer();

    const common = [`--kubeconfig=${kubeconfig}`, '--leader-elect=false', '--secure-port=0'];
    procs.push(
      startProcess('kube-controller-manager', bins.path('kube-controller-manager'), [
        ...common,
        `--service-account-private-key-file=${pki.serviceAccountKey}`,
        `--root-ca-file=${pki.caCert}`,
        '--use-service-account-credentials=false',
        '--controllers=*,-nodeipam,-cloud-node-lifecycle,-service-lb-controller,-persistentvolume-binder',
        '--kube-api-qps=500',
        '--kube-api-burst=1000',
        '--concurrent-deployment-syncs=10',
        '--concurrent-replicaset-syncs=10',
        '--concurrent-gc-syncs=40',
      ]),
      startProcess('kube-scheduler', bins.path('kube-scheduler'), common),
      startProcess('kwok', bins.path('kwok'), [
        `--kubeconfig=${kubeconfig}`,
        `--config=${bins.kwokStages}`,
        '--manage-all-nodes=false',
        '--manage-nodes-with-annotation-selector=kwok.x-k8s.io/node=fake',
        `--server-address=127.0.0.1:${kwokPort}`,
        '--node-lease-duration-seconds=40',
      ]),
    );
    const kubectl = (args: string[], input?: string) =>
      runKubectl(bins.path('kubectl'), kubeconfig, args, input);
    await kubectl(['apply', '-f', '-'], fakeNode);
    await waitFor(
      `node ${FAKE_NODE} Ready`,
      async () =>
        (await kubectl([
          'get',
          'node',
          FAKE_NODE,
          '-o',
          'jsonpath={.status.conditions[?(@.type=="Ready")].status}',
        ])) === 'True',
      60_000,
      procs,
    );
    // Pods in a namespace need its default ServiceAccount, made by the controller manager.
    await waitFor(
      'default ServiceAccount',
      async () => (await kubectl(['get', 'serviceaccount', 'default', '-o', 'name'])).length > 0,
      60_000,
      procs,
    );
    log(`control plane ready at ${server} in ${((Date.now() - started) / 1000).toFixed(1)} s`);
    return {
      kubeconfig,
      server,
      serviceAccountIssuer: server,
      caCert: pki.caCert,
      binDir: bins.dir,
      workDir,
      restartApiServer,
      stop,
    };
  } catch (err) {
    await stop();
    throw err;
  }
}

function getOk(server: string, path: string, caFile: string, cert: string, key: string): Promise<boolean> {
  return readFile(caFile, 'utf8').then(
    (ca) =>
      new Promise((resolve) => {
        const req = httpsRequest(`${server}${path}`, { ca, cert, key, timeout: 2_000 }, (res) => {
          res.resume();
          resolve(res.statusCode === 200);
        });
        req.on('error', () => resolve(false));
        req.on('timeout', () => req.destroy());
        req.end();
      }),
  );
}

export function runKubectl(bin: string, kubeconfig: string, args: string[], input?: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = execFile(
      bin,
      [`--kubeconfig=${kubeconfig}`, ...args],
      { maxBuffer: 64 << 20 },
      (err, stdout, stderr) =>
        err ? reject(new KubectlError(args, child.exitCode, stderr.trim())) : resolve(stdout.trim()),
    );
    child.stdin?.end(input);
  });
}

export class KubectlError extends Error {
  readonly stderr: string;
  readonly exitCode: number | null;
  constructor(args: string[], code: number | null, stderr: string) {
    super(`kubectl ${args.join(' ')} exited ${code}: ${stderr}`);
    this.name = 'KubectlError';
    this.stderr = stderr;
    this.exitCode = code;
  }
}
