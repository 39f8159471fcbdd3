import { execFile } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import { promisify } from 'node:util';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { CONFIG_FILE, MCP_CONTAINER, SIDECAR_CONTAINER } from '../../operator/src/render/layout.ts';
import { REAL_NODE } from '../cluster/real-node.ts';
import { eventually } from '../support/kube.ts';
import { type RealCluster, repositoryAndTag, startRealCluster } from './support/real-cluster.ts';

// What a user does first, on a real node: `helm install` of the chart with the images built from
// the Dockerfiles, then `kubectl apply` of examples/. The operator runs from its image, renders the
// everything server with the sidecar injected, and an MCP client (the TypeScript SDK, from the host)
// reaches it through its Service: with a ServiceAccount token it is served, without one refused;
// the audit events are in the sidecar's log (pods/log). Then what only a kubelet does: the
// NetworkPolicy drops direct traffic to the MCP container, a policy change reaches the running
// sidecar through the ConfigMap volume, a client pod's projected token is accepted, both containers
// run hardened, and the MCP container holds no token.

const ROOT = new URL('../../', import.meta.url).pathname;
const RELEASE_NS = 'portcullis-system';
const DEMO = 'demo';
// The example policy lets the ServiceAccount ci/release-bot start short long-running operations.
const CLIENT_NS = 'ci';
const CLIENT_SA = 'release-bot';
const SERVER_URL = `http://everything.${DEMO}.svc.cluster.local/mcp`; // its audience (RFC 8707)

let c: RealCluster;
let serviceIp: string;

interface PodStatus {
  metadata: { name: string; uid: string };
  spec: { nodeName?: string; containers: { name: string; image: string }[] };
  status: {
    podIP?: string;
    containerStatuses?: { name: string; ready: boolean; restartCount: number; state: { running?: object } }[];
  };
}

const json = async <T>(args: string[]): Promise<T> =>
  JSON.parse(await c.kubectl([...args, '-o', 'json'])) as T;

async function serverPod(): Promise<PodStatus> {
  const pods = await json<{ items: PodStatus[] }>(['-n', DEMO, 'get', 'pods', '-l', 'app=everything']);
  const running = pods.items.filter((p) => p.status.containerStatuses?.every((s) => s.ready));
  if (running.length !== 1) throw new Error(`expected one ready server pod, found ${running.length}`);
  return running[0] as PodStatus;
}

async function token(audience = SERVER_URL): Promise<string> {
  return c.kubectl([
    'create',
    'token',
    CLIENT_SA,
    '-n',
    CLIENT_NS,
    `--audience=${audience}`,
    '--duration=1h',
  ]);
}

/** An SDK client through the Service's ClusterIP, presenting `bearer` if given. */
async function connect(bearer?: string): Promise<Client> {
  const client = new Client({ name: 'real-node-test', version: '1' });
  await client.connect(
    new StreamableHTTPClientTransport(new URL(`http://${serviceIp}/mcp`), {
      requestInit: bearer ? { headers: { authorization: `Bearer ${bearer}` } } : {},
    }),
  );
  return client;
}

const longRunning = (client: Client, duration = 1) =>
  client.callTool({ name: 'trigger-long-running-operation', arguments: { duration, steps: 1 } });

const initialize = JSON.stringify({
  jsonrpc: '2.0',
  id: 1,
  method: 'initialize',
  params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'raw', version: '1' } },
});

/** A short Node script run in a container of the cluster (the everything and sidecar images have node). */
const exec = (ns: string, pod: string, container: string, script: string) =>
  c.kubectl(['-n', ns, 'exec', pod, '-c', container, '--', 'node', '-e', script]);

/** Node code that prints the HTTP status of POST url (or the error's code when it cannot connect). */
const probeScript = (url: string, headers: Record<string, string> = {}) =>
  `fetch(${JSON.stringify(url)}, { method: 'POST', signal: AbortSignal.timeout(4000), headers: ${JSON.stringify(
    {
      'content-type': 'application/json',
      accept: 'application/json, text/event-stream',
      ...headers,
    },
  )}, body: ${JSON.stringify(initialize)} })` +
  `.then((r) => console.log('status', r.status), (e) => console.log('error', e.cause?.code ?? e.name))`;

beforeAll(async () => {
  c = await startRealCluster(['operator', 'sidecar', 'everything']);
});

afterAll(async () => {
  await c?.stop();
});

describe('the chart and examples on a real node', () => {
  it('helm install: the operator runs from its image and turns Ready', async () => {
    const operator = repositoryAndTag(c.images.operator.ref);
    const sidecar = repositoryAndTag(c.images.sidecar.ref);
    const values = {
      image: { ...operator, pullPolicy: 'Never' },
      sidecar: { image: sidecar },
      config: {
        sidecar: { imagePullPolicy: 'Never' },
        // Kubernetes ServiceAccount tokens, verified against the API server's keys; pods reach the
        // API server at the `kubernetes` Service (no cluster DNS here, so by its address).
        authentication: {
          serviceAccounts: {
            issuer: c.plane.serviceAccountIssuer,
            jwksUri: 'https://10.96.0.1/openid/v1/jwks',
          },
        },
      },
    };
    await c.kubectl(['create', 'namespace', RELEASE_NS]);
    const valuesFile = `${c.plane.workDir}/values.yaml`;
    await writeFile(valuesFile, stringify(values));
    await c.helm([
      'install',
      'portcullis',
      `${ROOT}charts/portcullis`,
      '-n',
      RELEASE_NS,
      '-f',
      valuesFile,
      '--wait',
      '--timeout=5m',
    ]);
    const pods = await json<{ items: PodStatus[] }>([
      '-n',
      RELEASE_NS,
      'get',
      'pods',
      '-l',
      'app.kubernetes.io/component=operator',
    ]);
    expect(pods.items).toHaveLength(1);
    const pod = pods.items[0] as PodStatus;
    expect(pod.spec.nodeName).toBe(REAL_NODE);
    expect(pod.spec.containers[0]?.image).toBe(c.images.operator.ref);
    expect(pod.status.containerStatuses?.[0]).toMatchObject({ ready: true, restartCount: 0 });
    // Its own log says it runs, from the kubelet through the API.
    expect(await c.kubectl(['-n', RELEASE_NS, 'logs', pod.metadata.name])).toContain('"level":30');
  }, 360_000);

  it('kubectl apply -f examples/: the server runs with the sidecar; a token is served, none refused; audit in pods/log', async () => {
    await c.kubectl(['create', 'namespace', DEMO]);
    await c.kubectl(['create', 'namespace', CLIENT_NS]);
    await c.kubectl(['-n', CLIENT_NS, 'create', 'serviceaccount', CLIENT_SA]);
    // The examples as shipped, but for the image: the one built here, never pulled.
    const server = (await readFile(`${ROOT}examples/everything-server.yaml`, 'utf8'))
      .replace('image: mcp/everything:latest', `image: ${c.images.everything.ref}`)
      .replace('imagePullPolicy: IfNotPresent', 'imagePullPolicy: Never');
    expect(server).toContain(c.images.everything.ref);
    await c.kubectl(['-n', DEMO, 'apply', '-f', '-'], server);
    await c.kubectl(['-n', DEMO, 'apply', '-f', `${ROOT}examples/policy-engineers.yaml`]);
    await c.kubectl(['-n', DEMO, 'apply', '-f', `${ROOT}examples/policy-guardrails.yaml`]);

    const pod = await eventually('the everything pod ready', () => serverPod().catch(() => undefined), {
      timeoutMs: 180_000,
      intervalMs: 1_000,
    });
    expect(pod.spec.nodeName).toBe(REAL_NODE);
    expect(pod.spec.containers.map((x) => x.name).sort()).toEqual([MCP_CONTAINER, SIDECAR_CONTAINER].sort());
    for (const s of pod.status.containerStatuses ?? []) expect(s.state.running, s.name).toBeDefined();
    expect(pod.spec.containers.find((x) => x.name === SIDECAR_CONTAINER)?.image).toBe(c.images.sidecar.ref);

    serviceIp = await c.kubectl([
      '-n',
      DEMO,
      'get',
      'service',
      'everything',
      '-o',
      'jsonpath={.spec.clusterIP}',
    ]);
    // Without a credential: 401 with the resource metadata pointer (RFC 9728), from the sidecar.
    const refused = await eventually(
      'the Service routing',
      () =>
        fetch(`http://${serviceIp}/mcp`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream' },
          body: initialize,
          signal: AbortSignal.timeout(3_000),
        }),
      { timeoutMs: 60_000, intervalMs: 500 },
    );
    expect(refused.status).toBe(401);
    expect(refused.headers.get('www-authenticate')).toMatch(/^Bearer /);
    await expect(connect()).rejects.toThrow();

    // With the ServiceAccount's token for this server's audience: served, within the policy.
    const client = await connect(await token());
    const result = await longRunning(client);
    expect(result.isError ?? false).toBe(false);
    // The policy gives this caller nothing else.
    const echo = await client.callTool({ name: 'echo', arguments: { message: 'hi' } }).catch((e: Error) => e);
    expect(echo instanceof Error ? echo.message : JSON.stringify(echo)).toMatch(
      /denied|not allowed|forbidden/i,
    );
    await client.close();

    const log = await eventually(
      'audit events in the sidecar log',
      async () => {
        const text = await c.kubectl(['-n', DEMO, 'logs', pod.metadata.name, '-c', SIDECAR_CONTAINER]);
        return text.includes('trigger-long-running-operation') ? text : undefined;
      },
      { timeoutMs: 30_000 },
    );
    const audit = log
      .split('\n')
      .filter((l) => l.includes('"schema":"portcullis.dev/audit/'))
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    const mine = audit.filter((e) =>
      JSON.stringify(e).includes(`system:serviceaccount:${CLIENT_NS}:${CLIENT_SA}`),
    );
    expect(mine.some((e) => JSON.stringify(e).includes('trigger-long-running-operation'))).toBe(true);
    expect(audit.some((e) => JSON.stringify(e).includes('"echo"'))).toBe(true);
  }, 300_000);

  it('NetworkPolicy: a pod in another namespace cannot reach the MCP container, while the sidecar answers', async () => {
    const pod = await serverPod();
    const podIp = pod.status.podIP as string;
    // Inside the pod the MCP container listens (so a refusal below is the policy, not a closed port).
    const inside = await exec(
      DEMO,
      pod.metadata.name,
      SIDECAR_CONTAINER,
      probeScript('http://127.0.0.1:3001/mcp'),
    );
    expect(inside.trim()).toBe('status 200');

    await c.kubectl(
      ['apply', '-f', '-'],
      stringify({
        apiVersion: 'v1',
        kind: 'Pod',
        metadata: { name: 'client', namespace: CLIENT_NS },
        spec: {
          serviceAccountName: CLIENT_SA,
          automountServiceAccountToken: false,
          securityContext: { runAsNonRoot: true, seccompProfile: { type: 'RuntimeDefault' } },
          containers: [
            {
              name: 'client',
              image: c.images.everything.ref,
              imagePullPolicy: 'Never',
              securityContext: {
                allowPrivilegeEscalation: false,
                readOnlyRootFilesystem: true,
                capabilities: { drop: ['ALL'] },
              },
              volumeMounts: [{ name: 'token', mountPath: '/var/run/secrets/mcp', readOnly: true }],
            },
          ],
          // A projected, audience-bound token for this server only, rotated by the kubelet.
          volumes: [
            {
              name: 'token',
              projected: {
                sources: [
                  { serviceAccountToken: { path: 'token', audience: SERVER_URL, expirationSeconds: 3600 } },
                ],
              },
            },
          ],
        },
      }),
    );
    await c.kubectl(['-n', CLIENT_NS, 'wait', '--for=condition=Ready', 'pod/client', '--timeout=120s']);

    const direct = await exec(CLIENT_NS, 'client', 'client', probeScript(`http://${podIp}:3001/mcp`));
    expect(direct.trim()).toMatch(/^error (ETIMEDOUT|TimeoutError|ECONNREFUSED|ECONNRESET|EHOSTUNREACH)$/);
    const sidecarPort = await exec(CLIENT_NS, 'client', 'client', probeScript(`http://${podIp}:8080/mcp`));
    expect(sidecarPort.trim()).toBe('status 401');
  });

  it("a client pod's projected, audience-bound token is accepted; one for another audience is not", async () => {
    const withToken = `require('node:fs').readFileSync('/var/run/secrets/mcp/token', 'utf8').trim()`;
    const script = (extra: string) =>
      `const t = ${withToken}${extra};` +
      probeScript(`http://${serviceIp}/mcp`).replace(`"accept"`, '"authorization": "Bearer " + t, "accept"');
    expect((await exec(CLIENT_NS, 'client', 'client', script(''))).trim()).toBe('status 200');
    const other = await token('https://another.example/mcp');
    const wrongAudience = await fetch(`http://${serviceIp}/mcp`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        accept: 'application/json, text/event-stream',
        authorization: `Bearer ${other}`,
      },
      body: initialize,
    });
    expect(wrongAudience.status).toBe(401);
  });

  it('a policy change reaches the running sidecar through the ConfigMap volume without a restart; an invalid config is refused', async () => {
    const before = await serverPod();
    const restarts = (p: PodStatus) =>
      p.status.containerStatuses?.map((s) => `${s.name}:${s.restartCount}`).sort();
    const client = await connect(await token());
    const echo = () => client.callTool({ name: 'echo', arguments: { message: 'hi' } });
    await expect(echo()).rejects.toThrow();

    const applied = Date.now();
    await c.kubectl(
      ['-n', DEMO, 'apply', '-f', '-'],
      stringify({
        apiVersion: 'portcullis.dev/v1alpha1',
        kind: 'McpPolicy',
        metadata: { name: 'release-bot-echo' },
        spec: {
          servers: { matchLabels: { team: 'platform' } },
          rules: [
            {
              name: 'echo',
              action: 'allow',
              subjects: [{ serviceAccount: `${CLIENT_NS}/${CLIENT_SA}` }],
              tools: ['echo'],
            },
          ],
        },
      }),
    );
    const served = await eventually('echo allowed by the new policy', () => echo().catch(() => undefined), {
      timeoutMs: 120_000,
      intervalMs: 250,
    });
    const delay = (Date.now() - applied) / 1000;
    console.log(
      `[reload] policy applied -> first call served after ${delay.toFixed(1)} s (kubelet syncFrequency 10s)`,
    );
    expect(JSON.stringify(served)).toContain('hi');
    const after = await serverPod();
    expect(after.metadata.uid).toBe(before.metadata.uid);
    expect(restarts(after)).toEqual(restarts(before));
    expect(await c.kubectl(['-n', DEMO, 'logs', after.metadata.name, '-c', SIDECAR_CONTAINER])).toContain(
      'configuration reloaded',
    );

    // An invalid configuration reaching the volume: with the operator stopped (it would restore its
    // ConfigMap at once), write one by hand. The sidecar refuses it and keeps serving the last good one.
    await c.kubectl(['-n', RELEASE_NS, 'scale', 'deployment', '--all', '--replicas=0']);
    await eventually('the operator stopped', async () =>
      (await c.kubectl(['-n', RELEASE_NS, 'get', 'pods', '-o', 'name'])) === '' ? true : undefined,
    );
    await c.kubectl([
      '-n',
      DEMO,
      'patch',
      'configmap',
      'everything',
      '--type=merge',
      '-p',
      JSON.stringify({ data: { [CONFIG_FILE]: '{"listen": {"port": "not a port"}}' } }),
    ]);
    await eventually(
      'the sidecar refusing the invalid configuration',
      async () =>
        (await c.kubectl(['-n', DEMO, 'logs', after.metadata.name, '-c', SIDECAR_CONTAINER])).includes(
          'configuration refused, keeping the last good one',
        ) || undefined,
      { timeoutMs: 120_000, intervalMs: 1_000 },
    );
    expect(JSON.stringify(await echo())).toContain('hi');
    expect(restarts(await serverPod())).toEqual(restarts(before));
    await client.close();
    await c.kubectl(['-n', RELEASE_NS, 'scale', 'deployment', '--all', '--replicas=1']);
  }, 300_000);

  it('both containers run hardened, and the MCP container has no token mounted', async () => {
    const pod = await serverPod();
    for (const container of [MCP_CONTAINER, SIDECAR_CONTAINER]) {
      const status = await exec(
        DEMO,
        pod.metadata.name,
        container,
        "console.log(require('node:fs').readFileSync('/proc/1/status', 'utf8'))",
      );
      const field = (name: string) => new RegExp(`^${name}:\\s*(.*)$`, 'm').exec(status)?.[1]?.trim();
      expect(field('Uid')?.split(/\s+/)[0], container).not.toBe('0');
      for (const caps of ['CapPrm', 'CapEff', 'CapBnd', 'CapAmb'])
        expect(field(caps), `${container} ${caps}`).toBe('0000000000000000');
      expect(field('NoNewPrivs'), container).toBe('1');
      expect(field('Seccomp'), container).toBe('2');
      const write = await exec(
        DEMO,
        pod.metadata.name,
        container,
        "try { require('node:fs').writeFileSync('/probe', 'x'); console.log('wrote') } catch (e) { console.log(e.code) }",
      );
      expect(write.trim(), container).toBe('EROFS');
    }
    // No ServiceAccount token anywhere a process of the MCP container could read one.
    const found = await exec(
      DEMO,
      pod.metadata.name,
      MCP_CONTAINER,
      `const fs = require('node:fs');
       const seen = [];
       const walk = (d) => { for (const e of fs.readdirSync(d, { withFileTypes: true })) { const p = d + '/' + e.name; if (e.isDirectory()) walk(p); else seen.push(p); } };
       for (const d of ['/var/run/secrets', '/run/secrets']) { try { walk(d) } catch {} }
       console.log(JSON.stringify(seen));`,
    );
    expect(JSON.parse(found)).toEqual([]);
    // The sidecar has its own, bound to the API server's audience, in its own mount.
    const sidecarFiles = await exec(
      DEMO,
      pod.metadata.name,
      SIDECAR_CONTAINER,
      "console.log(require('node:fs').readdirSync('/var/run/secrets/portcullis/serviceaccount').join(','))",
    );
    expect(sidecarFiles.trim().split(',')).toContain('token');
  });

  it('rolling update: a client calling in a loop sees no failed call; SIGTERM drains a call in flight and flushes its audit', async () => {
    const old = await serverPod();
    // A second name for the same image: changing spec.hosted.image rolls the pods.
    const rolled = `${c.images.everything.ref}-rolled`;
    await promisify(execFile)('ctr', [
      '--address',
      c.node.containerdSocket,
      '-n',
      'k8s.io',
      'images',
      'tag',
      c.images.everything.ref,
      rolled,
    ]);
    const bearer = await token();
    let looping = true;
    let calls = 0;
    const failures: string[] = [];
    const loop = (async () => {
      while (looping) {
        try {
          const client = await connect(bearer);
          const r = await longRunning(client, 0.1);
          if (r.isError) throw new Error(JSON.stringify(r.content));
          await client.close();
          calls++;
        } catch (err) {
          failures.push(String(err));
        }
      }
    })();
    // The old sidecar's whole log, until its container exits.
    const oldLog = c
      .kubectl(['-n', DEMO, 'logs', '-f', old.metadata.name, '-c', SIDECAR_CONTAINER])
      .catch((err: unknown) => `kubectl logs -f failed: ${err}`);

    await c.kubectl([
      '-n',
      DEMO,
      'patch',
      'mcpserver',
      'everything',
      '--type=merge',
      '-p',
      JSON.stringify({ spec: { hosted: { image: rolled } } }),
    ]);
    // Once the old pod is terminating, a call straight to it (not through the Service) is in flight
    // when its sidecar gets SIGTERM (after the 5 s preStop delay).
    await eventually(
      'the old pod terminating',
      async () =>
        (await c.kubectl([
          '-n',
          DEMO,
          'get',
          'pod',
          old.metadata.name,
          '-o',
          'jsonpath={.metadata.deletionTimestamp}',
        ])) || undefined,
      { timeoutMs: 240_000, intervalMs: 250 },
    );
    const direct = new Client({ name: 'drain', version: '1' });
    const transport = new StreamableHTTPClientTransport(new URL(`http://${old.status.podIP}:8080/mcp`), {
      requestInit: { headers: { authorization: `Bearer ${bearer}` } },
    });
    await direct.connect(transport);
    const session = transport.sessionId as string;
    const inFlight = await longRunning(direct, 8);
    expect(inFlight.isError ?? false).toBe(false);
    await direct.close().catch(() => undefined);

    const log = await oldLog;
    const lines = log.split('\n');
    const stopAt = lines.findIndex((l) => l.includes('"msg":"shutting down"'));
    expect(stopAt).toBeGreaterThan(-1);
    expect(log).toContain('draining calls in flight');
    // The drained call's audit event was written after SIGTERM, before the process exited.
    const audited = lines
      .slice(stopAt)
      .some(
        (l) =>
          l.includes('"schema":"portcullis.dev/audit/') &&
          l.includes(session) &&
          l.includes('trigger-long-running-operation'),
      );
    expect(audited).toBe(true);

    const next = await eventually('the rolled pod serving alone', async () => {
      const pod = await serverPod().catch(() => undefined);
      return pod && pod.metadata.uid !== old.metadata.uid ? pod : undefined;
    });
    expect(next.spec.containers.find((x) => x.name === MCP_CONTAINER)?.image).toBe(rolled);
    await new Promise((r) => setTimeout(r, 2_000)); // a few calls on the new pod alone
    looping = false;
    await loop;
    console.log(`[rollout] ${calls} calls through the Service during the rollout, ${failures.length} failed`);
    expect(failures).toEqual([]);
    expect(calls).toBeGreaterThan(10);
  }, 420_000);
});
