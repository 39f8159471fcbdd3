import { execFile } from 'node:child_process';
import { readdir, readFile } from 'node:fs/promises';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ControlPlane, runKubectl, startControlPlane } from '../cluster/control-plane.ts';
import { REAL_NODE, REAL_NODE_TAINT, type RealNode, startRealNode } from '../cluster/real-node.ts';
import { type BuiltImages, buildImages } from '../images/build.ts';

// The real node: a pod of the `everything` MCP server image (built from its Containerfile, imported
// into the node's containerd, never pulled) runs under the kubelet on containerd + runc, and its
// ClusterIP Service routes through kube-proxy from the host and from pods. Teardown leaves no process, mount or
// network namespace behind.

const NS = 'real-node-smoke';
let plane: ControlPlane;
let node: RealNode;
let images: BuiltImages;
let kubectl: (args: string[], input?: string) => Promise<string>;
let netnsBefore: string[];

beforeAll(async () => {
  netnsBefore = await readdir('/run/netns').catch(() => []);
  images = await buildImages({ log: (l) => console.log(`[images] ${l}`) });
  plane = await startControlPlane({ log: (l) => console.log(`[control-plane] ${l}`) });
  kubectl = (args, input) => runKubectl(`${plane.binDir}/kubectl`, plane.kubeconfig, args, input);
  node = await startRealNode(plane, { log: (l) => console.log(`[real-node] ${l}`) });
  await node.importImage(images.everything.ref, images.everything.archive);
});

afterAll(async () => {
  await node?.stop();
  await plane?.stop();
});

const manifest = (image: string) => `
apiVersion: v1
kind: Namespace
metadata: { name: ${NS} }
---
apiVersion: v1
kind: Pod
metadata: { name: everything, namespace: ${NS}, labels: { app: everything } }
spec:
  nodeSelector: { kubernetes.io/hostname: ${REAL_NODE} }
  tolerations: [{ key: ${REAL_NODE_TAINT.key}, operator: Equal, value: "${REAL_NODE_TAINT.value}", effect: ${REAL_NODE_TAINT.effect} }]
  automountServiceAccountToken: false
  securityContext: { runAsNonRoot: true, seccompProfile: { type: RuntimeDefault } }
  containers:
  - name: server
    image: ${image}
    imagePullPolicy: Never
    ports: [{ containerPort: 3001 }]
    readinessProbe: { tcpSocket: { port: 3001 }, periodSeconds: 1 }
    securityContext: { allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: { drop: [ALL] } }
    volumeMounts: [{ name: tmp, mountPath: /tmp }]
  volumes: [{ name: tmp, emptyDir: {} }]
---
apiVersion: v1
kind: Service
metadata: { name: everything, namespace: ${NS} }
spec:
  selector: { app: everything }
  ports: [{ port: 80, targetPort: 3001 }]
`;

describe('the real node', () => {
  it('runs a pod from a locally built image and routes its ClusterIP Service from the host and pods', async () => {
    await kubectl(['apply', '-f', '-'], manifest(images.everything.ref));
    await kubectl(['-n', NS, 'wait', '--for=condition=Ready', 'pod/everything', '--timeout=120s']);
    const clusterIp = await kubectl([
      '-n',
      NS,
      'get',
      'service',
      'everything',
      '-o',
      'jsonpath={.spec.clusterIP}',
    ]);
    // kube-proxy programs the Service's rules asynchronously; retry until they route.
    let reply: Response | undefined;
    for (let i = 0; i < 60 && !reply; i++) {
      reply = await fetch(`http://${clusterIp}/mcp`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream' },
        body: JSON.stringify({
          jsonrpc: '2.0',
          id: 1,
          method: 'initialize',
          params: {
            protocolVersion: '2025-06-18',
            capabilities: {},
            clientInfo: { name: 'real-node', version: '1' },
          },
        }),
        signal: AbortSignal.timeout(2_000),
      }).catch(() => undefined);
      if (!reply) await new Promise((r) => setTimeout(r, 500));
    }
    expect(reply?.status).toBe(200);
    expect(await reply?.text()).toContain('"serverInfo"');
    // The pod really runs here: its log comes from the kubelet through the API (pods/log), and exec
    // through the API runs in it; from inside, the Service routes too (pod -> ClusterIP -> pod).
    expect(await kubectl(['-n', NS, 'logs', 'everything'])).not.toBe('');
    const fromPod = await kubectl([
      '-n',
      NS,
      'exec',
      'everything',
      '--',
      'node',
      '-e',
      `fetch('http://${clusterIp}/mcp').then((r) => console.log('status', r.status))`,
    ]);
    expect(fromPod).toMatch(/^status \d{3}$/);
  });

  it('leaves nothing running, mounted or in /run/netns after stopping', async () => {
    const workDirs = (await readFile('/proc/self/mountinfo', 'utf8'))
      .split('\n')
      .map((l) => l.split(' ')[4] ?? '');
    await node.stop();
    const mountsAfter = (await readFile('/proc/self/mountinfo', 'utf8'))
      .split('\n')
      .map((l) => l.split(' ')[4] ?? '')
      .filter((p) => p.includes('/portcullis-node-'));
    expect(workDirs.some((p) => p.includes('/portcullis-node-'))).toBe(true); // the check can see them
    expect(mountsAfter).toEqual([]);
    expect((await readdir('/run/netns').catch(() => [])).sort()).toEqual([...netnsBefore].sort());
    const survivors: string[] = [];
    for (const pid of await readdir('/proc')) {
      if (!/^\d+$/.test(pid)) continue;
      const cmd = await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '');
      if (cmd.includes('portcullis-node-')) survivors.push(cmd.replaceAll('\0', ' '));
    }
    expect(survivors).toEqual([]);
    // Nor the containers' own processes (they hold the pod's network namespace, its veth and the
    // host route to its address, which the next pod with that address would collide with).
    const cgroups = await readdir('/sys/fs/cgroup/pids/k8s.io').catch(() => [] as string[]);
    const inContainers = await Promise.all(
      cgroups.map((d) => readFile(`/sys/fs/cgroup/pids/k8s.io/${d}/cgroup.procs`, 'utf8').catch(() => '')),
    );
    expect(inContainers.join('').trim()).toBe('');
    const routes = (await promisify(execFile)('ip', ['-4', 'route', 'show'])).stdout;
    expect(routes).not.toMatch(/^10\.213\./m);
    // Neither kube-proxy's Service rules nor the kubelet's chains stay in the host's iptables.
    const { stdout } = await promisify(execFile)('iptables-save');
    expect(stdout).not.toMatch(/KUBE-|PORTCULLIS-NODE/);
  });
});
