import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { request as httpRequest } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { V1Deployment, V1NetworkPolicy, V1Role } from '@kubernetes/client-node';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { hashApiKey } from '../../../sidecar/src/authn/index.ts';
import { generatePki, type Pki } from '../../cluster/pki.ts';
import { type EchoUpstream, startEchoUpstream } from '../../support/echo-upstream.ts';
import { createNamespace, eventually, KubectlError, kubectl } from '../../support/kube.ts';
import {
  applyCrds,
  applyManifest,
  condition,
  getJson,
  type InProcessOperator,
  type ServerView,
  serverReady,
  startOperator,
} from '../../support/operator.ts';
import { type PodSidecar, startPodSidecar } from '../../support/pod-sidecar.ts';

// An external MCP server governed through spec.external on the real control plane: a real MCP server
// on loopback over TLS with a test CA stands in for a vendor's. The operator renders the gateway; its
// sidecar runs from the rendered ConfigMap and volumes as a process with the pod's ServiceAccount
// token, so policy, audit, metrics, the upstream credential, the CA bundle and the status report
// all go through what the operator wrote. A CA that did not sign the upstream fails closed, and the
// condition says why.

const ALICE_KEY = 'alice-key-external-0123456789';
const VENDOR_KEY = 'vendor-static-credential-42';

let ns: { name: string; remove: () => Promise<void> };
let op: InProcessOperator;
let dir: string;
let pki: Pki;
let otherCa: string;
let upstream: EchoUpstream;
let gateway: PodSidecar | undefined;

const EXAMPLES = new URL('../../../examples/external/', import.meta.url).pathname;

const manifest = (obj: object) => JSON.stringify(obj);

type UpstreamView = ServerView & {
  status?: {
    source?: string;
    upstream?: {
      url: string;
      reachable: boolean;
      serverInfo?: { name: string; version?: string };
      protocolVersion?: string;
      message?: string;
      pod?: string;
    };
  };
};

beforeAll(async () => {
  await applyCrds();
  ns = await createNamespace('op-external');
  op = await startOperator(ns.name);
  dir = await mkdtemp(join(tmpdir(), 'kube-external-'));
  pki = await generatePki(dir);
  otherCa = await readFile((await generatePki(await mkdtemp(join(dir, 'other-')))).caCert, 'utf8');
  upstream = await startEchoUpstream({
    tls: { cert: await readFile(pki.servingCert, 'utf8'), key: await readFile(pki.servingKey, 'utf8') },
  });
  const keys = JSON.stringify([
    { id: 'alice', sha256: hashApiKey(ALICE_KEY), subject: 'alice', groups: ['engineering'] },
  ]);
  await kubectl([
    '-n',
    ns.name,
    'create',
    'secret',
    'generic',
    'callers',
    `--from-literal=keys.json=${keys}`,
  ]);
  await kubectl([
    '-n',
    ns.name,
    'create',
    'secret',
    'generic',
    'vendor-key',
    `--from-literal=key=${VENDOR_KEY}`,
  ]);
  await kubectl(['-n', ns.name, 'create', 'configmap', 'vendor-ca', `--from-file=ca.crt=${pki.caCert}`]);
  await applyManifest(
    ns.name,
    manifest({
      apiVersion: 'portcullis.dev/v1alpha1',
      kind: 'McpPolicy',
      metadata: { name: 'engineers' },
      spec: {
        servers: { matchLabels: { vendor: 'acme' } },
        rules: [
          { name: 'alpha-only', action: 'allow', subjects: [{ group: 'engineering' }], tools: ['alpha'] },
        ],
      },
    }),
  );
  await applyManifest(
    ns.name,
    manifest({
      apiVersion: 'portcullis.dev/v1alpha1',
      kind: 'McpServer',
      metadata: { name: 'vendor', labels: { vendor: 'acme' } },
      spec: {
        external: {
          url: upstream.url,
          // The default (30 s) would make the CA change below wait that long for its report.
          probeIntervalSeconds: 5,
          tls: {
            caBundle: { configMapKeyRef: { name: 'vendor-ca', key: 'ca.crt' } },
            serverName: 'localhost',
          },
        },
        authentication: { apiKeys: { secretRef: { name: 'callers', key: 'keys.json' } } },
        upstreamAuth: {
          headers: {
            id: 'acme-service-key',
            headers: [{ name: 'x-vendor-key', secretKeyRef: { name: 'vendor-key', key: 'key' } }],
          },
        },
      },
    }),
  );
  await serverReady(ns.name, 'vendor');
  gateway = await startPodSidecar({
    namespace: ns.name,
    server: 'vendor',
    kubeconfig: inject('kubeconfig'),
  });
}, 120_000);

afterAll(async () => {
  await gateway?.close();
  await upstream?.close();
  await op?.stop();
  await ns?.remove();
  if (dir) await rm(dir, { recursive: true, force: true });
});

async function client(): Promise<Client> {
  const c = new Client({ name: 'kube-external', version: '1' });
  await c.connect(
    new StreamableHTTPClientTransport(new URL(gateway?.url ?? ''), {
      requestInit: { headers: { 'x-api-key': ALICE_KEY } },
    }),
  );
  return c;
}

const auditEvents = () =>
  (gateway?.output() ?? '')
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as Record<string, unknown>)
    .filter((e) => typeof e.outcome === 'string' && e.method === 'tools/call');

describe('an external MCP server (spec.external) on the real control plane', () => {
  it('renders a gateway of the sidecar alone, its egress limited, its RBAC limited to its own status', async () => {
    const view = await getJson<UpstreamView>(ns.name, 'mcpserver/vendor');
    expect(view.status?.source).toBe('external');
    expect(view.status?.url).toBe(`http://vendor.${ns.name}.svc.cluster.local/mcp`);
    const dep = await getJson<V1Deployment>(ns.name, 'deployment/vendor');
    expect(dep.spec?.template.spec?.containers.map((c) => c.name)).toEqual(['portcullis-sidecar']);
    const np = await getJson<V1NetworkPolicy>(ns.name, 'networkpolicy/vendor');
    expect(np.spec?.policyTypes).toEqual(['Ingress', 'Egress']);
    const upstreamPort = Number(new URL(upstream.url).port);
    expect(np.spec?.egress?.[1]?.ports?.map((p) => p.port)).toContain(upstreamPort);
    const role = await getJson<V1Role>(ns.name, 'role/vendor');
    expect(role.rules).toEqual([
      {
        apiGroups: ['portcullis.dev'],
        resources: ['mcpservers/status'],
        resourceNames: ['vendor'],
        verbs: ['patch'],
      },
    ]);
    const as = `--as=system:serviceaccount:${ns.name}:vendor`;
    await kubectl([
      'auth',
      'can-i',
      'patch',
      'mcpservers.portcullis.dev/vendor',
      '--subresource=status',
      '-n',
      ns.name,
      as,
    ]);
    for (const denied of [
      ['patch', 'mcpservers.portcullis.dev/other', '--subresource=status'],
      ['patch', 'mcpservers.portcullis.dev/vendor'],
      ['get', 'secrets/vendor-key'],
    ])
      await expect(kubectl(['auth', 'can-i', ...denied, '-n', ns.name, as])).rejects.toBeInstanceOf(
        KubectlError,
      );
  });

  it('governs calls as for a hosted server: policy, audit, metrics, the gateway credential upstream', async () => {
    const c = await client();
    try {
      expect((await c.listTools()).tools.map((t) => t.name)).toEqual(['alpha']);
      expect(await c.callTool({ name: 'alpha', arguments: { n: 1 } })).toMatchObject({
        content: [{ text: 'called alpha' }],
      });
      await expect(c.callTool({ name: 'beta', arguments: { n: 2 } })).rejects.toThrow(/Forbidden by policy/);
    } finally {
      await c.close();
    }
    expect(upstream.calls).toEqual([1]);
    // The upstream sees the gateway's credential from the Secret, never the caller's.
    const seen = upstream.seen.filter((h) => h['x-vendor-key'] !== undefined);
    expect(seen.length).toBeGreaterThan(0);
    expect(seen.every((h) => h['x-vendor-key'] === VENDOR_KEY)).toBe(true);
    expect(upstream.seen.some((h) => JSON.stringify(h).includes(ALICE_KEY))).toBe(false);
    await expect
      .poll(() => auditEvents().map((e) => [(e.target as { tool?: string })?.tool, e.outcome]))
      .toEqual([
        ['alpha', 'allowed'],
        ['beta', 'denied'],
      ]);
    const metrics = await (await fetch(`${gateway?.adminUrl}/metrics`)).text();
    expect(metrics).toMatch(/portcullis_sidecar_requests_total\{[^}]*tool="alpha",outcome="allowed"\} 1/);
    expect(metrics).toMatch(/portcullis_sidecar_upstream_up\{server="vendor"\} 1/);
  });

  it('shows the upstream reachable with its serverInfo in status, reported by the gateway pod', async () => {
    const view = await eventually('UpstreamReachable=True', async () => {
      const v = await getJson<UpstreamView>(ns.name, 'mcpserver/vendor');
      return condition(v, 'UpstreamReachable')?.status === 'True' ? v : undefined;
    });
    expect(view.status?.upstream).toMatchObject({
      url: upstream.url,
      reachable: true,
      serverInfo: { name: 'echo-upstream', version: '1.0.0' },
      pod: gateway?.podName,
    });
    expect(view.status?.upstream?.protocolVersion).toMatch(/^\d{4}-\d{2}-\d{2}$/);
    expect(condition(view, 'UpstreamReachable')?.message).toContain('serverInfo echo-upstream 1.0.0');
    expect(view.status?.phase).toBe('Ready');
  });

  it('fails closed with a clear condition when the CA bundle does not sign the upstream', async () => {
    await kubectl([
      '-n',
      ns.name,
      'create',
      'configmap',
      'vendor-ca',
      `--from-literal=ca.crt=${otherCa}`,
      '--dry-run=client',
      '-o',
      'yaml',
    ]).then((yaml) => kubectl(['-n', ns.name, 'apply', '-f', '-'], yaml));
    await gateway?.syncVolumes();
    const view = await eventually(
      'UpstreamReachable=False',
      async () => {
        const v = await getJson<UpstreamView>(ns.name, 'mcpserver/vendor');
        return condition(v, 'UpstreamReachable')?.status === 'False' ? v : undefined;
      },
      { timeoutMs: 30_000 },
    );
    expect(condition(view, 'UpstreamReachable')).toMatchObject({ reason: 'Unreachable' });
    expect(condition(view, 'UpstreamReachable')?.message).toMatch(
      /TLS: the upstream certificate is not trusted .*check spec\.external\.tls\.caBundle/,
    );
    expect(condition(view, 'Degraded')).toMatchObject({ status: 'True', reason: 'Unreachable' });
    // Calls fail closed once the gateway has the new bundle (its file watch polls every 2 s): a
    // JSON-RPC error with the request id, and no request reaches the upstream.
    const initialize = () =>
      fetch(gateway?.url ?? '', {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          accept: 'application/json, text/event-stream',
          'x-api-key': ALICE_KEY,
        },
        body: JSON.stringify({
          jsonrpc: '2.0',
          id: 9,
          method: 'initialize',
          params: {
            protocolVersion: '2025-06-18',
            capabilities: {},
            clientInfo: { name: 't', version: '1' },
          },
        }),
      });
    await expect.poll(async () => (await initialize()).status, { timeout: 15_000, interval: 500 }).toBe(502);
    const before = upstream.seen.length;
    const res = await initialize();
    expect(res.status).toBe(502);
    expect(await res.json()).toMatchObject({ id: 9, error: { code: -32603 } });
    expect(upstream.seen.length).toBe(before);
  });

  it('refuses plain http to a host outside the cluster at admission', async () => {
    await expect(
      applyManifest(
        ns.name,
        manifest({
          apiVersion: 'portcullis.dev/v1alpha1',
          kind: 'McpServer',
          metadata: { name: 'plain' },
          spec: { external: { url: 'http://mcp.vendor.example/mcp', allowInClusterHttp: true } },
        }),
      ),
    ).rejects.toThrow(/url must be https/);
    await applyManifest(
      ns.name,
      manifest({
        apiVersion: 'portcullis.dev/v1alpha1',
        kind: 'McpServer',
        metadata: { name: 'in-cluster' },
        spec: {
          external: { url: 'http://gateway.other.svc.cluster.local:8080/mcp', allowInClusterHttp: true },
        },
      }),
    );
  });

  it('admits examples/external; until a gateway pod reports, UpstreamReachable is Unknown and says so', async () => {
    await kubectl(['-n', ns.name, 'apply', '-f', EXAMPLES]);
    const view = await serverReady(ns.name, 'vendor-mcp');
    expect(condition(view, 'UpstreamReachable')).toMatchObject({ status: 'Unknown', reason: 'NoReport' });
    expect(condition(view, 'UpstreamReachable')?.message).toContain(
      'No gateway pod has probed https://mcp.vendor.example/v1/mcp yet',
    );
    const dep = await getJson<V1Deployment>(ns.name, 'deployment/vendor-mcp');
    expect(dep.spec?.replicas).toBe(2);
    expect(dep.spec?.template.spec?.volumes?.map((v) => v.name)).toEqual(
      expect.arrayContaining(['portcullis-upstream-auth', 'portcullis-upstream-ca']),
    );
  });
});

// Behind per-caller credentials: the vendor refuses a request without a key of a known user, so the
// gateway's own probe gets HTTP 401; status says the upstream is reachable and fills in serverInfo
// from the first caller's session, which carries that caller's own key.
describe('an external server with per-user keys (spec.upstreamAuth.perPrincipal)', () => {
  const ALICE_VENDOR_KEY = 'alice-own-vendor-key';
  let plain: EchoUpstream;
  let vendor: { url: string; keys: string[]; close(): Promise<void> };
  let perUser: PodSidecar | undefined;

  beforeAll(async () => {
    plain = await startEchoUpstream();
    vendor = await startKeyCheckingProxy(plain.url, [ALICE_VENDOR_KEY], {
      cert: await readFile(pki.servingCert, 'utf8'),
      key: await readFile(pki.servingKey, 'utf8'),
    });
    const mapping = `credentials:\n  - id: alice-vendor\n    user: alice\n    headers: { X-Vendor-Key: ${ALICE_VENDOR_KEY} }\n`;
    await kubectl([
      '-n',
      ns.name,
      'create',
      'secret',
      'generic',
      'vendor-user-keys',
      `--from-literal=keys.yaml=${mapping}`,
    ]);
    await kubectl(['-n', ns.name, 'create', 'configmap', 'vendor-ca-2', `--from-file=ca.crt=${pki.caCert}`]);
    await applyManifest(
      ns.name,
      manifest({
        apiVersion: 'portcullis.dev/v1alpha1',
        kind: 'McpServer',
        metadata: { name: 'per-user', labels: { vendor: 'acme' } },
        spec: {
          external: {
            url: vendor.url,
            probeIntervalSeconds: 5,
            tls: {
              caBundle: { configMapKeyRef: { name: 'vendor-ca-2', key: 'ca.crt' } },
              serverName: 'localhost',
            },
          },
          authentication: { apiKeys: { secretRef: { name: 'callers', key: 'keys.json' } } },
          upstreamAuth: { perPrincipal: { secretKeyRef: { name: 'vendor-user-keys', key: 'keys.yaml' } } },
        },
      }),
    );
    await serverReady(ns.name, 'per-user');
    perUser = await startPodSidecar({
      namespace: ns.name,
      server: 'per-user',
      kubeconfig: inject('kubeconfig'),
    });
  }, 120_000);

  afterAll(async () => {
    await perUser?.close();
    await vendor?.close();
    await plain?.close();
  });

  it("is reachable before any caller, and shows serverInfo once a caller's session brought it back", async () => {
    const before = await eventually('UpstreamReachable=True', async () => {
      const v = await getJson<UpstreamView>(ns.name, 'mcpserver/per-user');
      return condition(v, 'UpstreamReachable')?.status === 'True' ? v : undefined;
    });
    expect(before.status?.upstream?.serverInfo).toBeUndefined();
    expect(before.status?.upstream?.message).toMatch(
      /HTTP 401.*serverInfo is unknown until a caller's session starts/,
    );

    const c = new Client({ name: 'kube-external-per-user', version: '1' });
    await c.connect(
      new StreamableHTTPClientTransport(new URL(perUser?.url ?? ''), {
        requestInit: { headers: { 'x-api-key': ALICE_KEY } },
      }),
    );
    expect(await c.callTool({ name: 'alpha', arguments: { n: 1 } })).toMatchObject({
      content: [{ text: 'called alpha' }],
    });
    await c.close();
    // The vendor saw alice's own key, never her Portcullis key.
    expect(vendor.keys).toContain(ALICE_VENDOR_KEY);
    expect(vendor.keys).not.toContain(ALICE_KEY);

    const after = await eventually('serverInfo in status', async () => {
      const v = await getJson<UpstreamView>(ns.name, 'mcpserver/per-user');
      return v.status?.upstream?.serverInfo ? v : undefined;
    });
    expect(after.status?.upstream).toMatchObject({
      reachable: true,
      serverInfo: { name: 'echo-upstream', version: '1.0.0' },
      message: expect.stringContaining("serverInfo as the upstream answered a caller's initialize"),
    });
    expect(condition(after, 'UpstreamReachable')?.message).toContain('serverInfo echo-upstream 1.0.0');
  });
});

/** An https vendor stand-in: 401 without a known X-Vendor-Key, else on to `target` (plain http). */
async function startKeyCheckingProxy(
  target: string,
  known: readonly string[],
  tls: { cert: string; key: string },
): Promise<{ url: string; keys: string[]; close(): Promise<void> }> {
  const to = new URL(target);
  const keys: string[] = [];
  const server = createHttpsServer(tls, (req, res) => {
    const key = req.headers['x-vendor-key'];
    keys.push(String(key ?? ''));
    for (const h of ['x-api-key', 'authorization']) if (req.headers[h]) keys.push(String(req.headers[h]));
    if (typeof key !== 'string' || !known.includes(key)) {
      res.writeHead(401, { 'www-authenticate': 'X-Vendor-Key' }).end();
      return;
    }
    const up = httpRequest(
      {
        host: to.hostname,
        port: to.port,
        method: req.method,
        path: to.pathname,
        headers: { ...req.headers, host: to.host },
      },
      (upRes) => {
        res.writeHead(upRes.statusCode ?? 502, upRes.headers);
        upRes.pipe(res);
      },
    );
    up.on('error', () => res.writeHead(502).end());
    req.pipe(up);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `https://127.0.0.1:${(server.address() as AddressInfo).port}/mcp`,
    keys,
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}
