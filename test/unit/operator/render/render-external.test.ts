import type { V1PodSpec } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import type { ClusterMcpPolicy } from '../../../../operator/src/api/cluster-mcp-policy.ts';
import type { ExternalSource } from '../../../../operator/src/api/external-source.ts';
import type { McpServerSpec } from '../../../../operator/src/api/mcp-server.ts';
import { UPSTREAM_CA_FILE } from '../../../../operator/src/render/external.ts';
import { SIDECAR_CONTAINER } from '../../../../operator/src/render/layout.ts';
import { renderServer } from '../../../../operator/src/render/render-server.ts';
import { UPSTREAM_AUTH_DIR } from '../../../../operator/src/render/upstream-auth.ts';
import { validateConfig } from '../../../../sidecar/src/config/load.ts';
import { defaults, policy, server } from '../api/builders.ts';

// spec.external rendered: a gateway Deployment of the sidecar alone forwarding to the URL, the CA
// bundle projected into it, its NetworkPolicy letting it reach DNS and the ports its configuration
// names and nothing else.

type ExternalInput = Partial<ExternalSource> & { url: string };

function render(external: ExternalInput, spec: Partial<McpServerSpec> = {}, d = defaults()) {
  const s = server({ spec: { ...spec } });
  delete s.spec.hosted;
  s.spec.external = {
    transport: 'streamable-http',
    allowInClusterHttp: false,
    replicas: 1,
    probeIntervalSeconds: 30,
    ...external,
  };
  const r = renderServer({ server: s, policies: [], defaults: d });
  if (!r.ok) throw r.error;
  return { r, pod: r.children.deployment.spec?.template.spec as V1PodSpec };
}

const VENDOR = 'https://mcp.vendor.example:8443/v1/mcp';

describe('spec.external', () => {
  it('renders a gateway of the sidecar alone, hardened, forwarding to the URL with the CA and server name', () => {
    const { r, pod } = render({
      url: VENDOR,
      tls: { caBundle: { secretKeyRef: { name: 'vendor-ca', key: 'ca.pem' } }, serverName: 'mcp.vendor' },
    });
    expect(pod.containers.map((c) => c.name)).toEqual([SIDECAR_CONTAINER]);
    expect(pod.automountServiceAccountToken).toBe(false);
    expect(pod.containers[0]?.securityContext).toMatchObject({
      runAsNonRoot: true,
      readOnlyRootFilesystem: true,
      allowPrivilegeEscalation: false,
      capabilities: { drop: ['ALL'] },
      seccompProfile: { type: 'RuntimeDefault' },
    });
    expect(r.config.upstream).toMatchObject({
      transport: 'streamable-http',
      url: VENDOR,
      tls: { caFile: UPSTREAM_CA_FILE, serverName: 'mcp.vendor' },
    });
    expect(r.config.listen.path).toBe('/mcp');
    expect(r.url).toBe('http://everything.team-a.svc.cluster.local/mcp');
    expect(pod.volumes).toContainEqual({
      name: 'portcullis-upstream-ca',
      projected: { sources: [{ secret: { name: 'vendor-ca', items: [{ key: 'ca.pem', path: 'ca.crt' }] } }] },
    });
    expect(pod.containers[0]?.volumeMounts).toContainEqual({
      name: 'portcullis-upstream-ca',
      mountPath: '/etc/portcullis/upstream-ca',
      readOnly: true,
    });
    expect(validateConfig(r.config)).toMatchObject({ ok: true });
  });

  it('takes the CA bundle from a ConfigMap key; without tls the public roots and the URL host apply', () => {
    const fromConfigMap = render({
      url: VENDOR,
      tls: { caBundle: { configMapKeyRef: { name: 'vendor-ca', key: 'bundle' } } },
    });
    expect(fromConfigMap.pod.volumes).toContainEqual({
      name: 'portcullis-upstream-ca',
      projected: {
        sources: [{ configMap: { name: 'vendor-ca', items: [{ key: 'bundle', path: 'ca.crt' }] } }],
      },
    });
    expect(fromConfigMap.r.config.upstream.tls).toEqual({ caFile: UPSTREAM_CA_FILE });
    const plain = render({ url: VENDOR });
    expect(plain.r.config.upstream.tls).toBeUndefined();
    expect(plain.pod.volumes?.map((v) => v.name)).not.toContain('portcullis-upstream-ca');
  });

  it('serves a legacy SSE upstream at /sse, and mounts per-user credentials into the gateway', () => {
    const { r, pod } = render(
      { url: 'https://mcp.vendor.example/sse', transport: 'sse' },
      { upstreamAuth: { perPrincipal: { secretKeyRef: { name: 'keys', key: 'keys.yaml' } } } },
    );
    expect(r.url).toBe('http://everything.team-a.svc.cluster.local/sse');
    expect(r.config.upstream).toMatchObject({
      transport: 'sse',
      auth: { mode: 'perPrincipal', file: `${UPSTREAM_AUTH_DIR}/0` },
    });
    expect(pod.containers[0]?.volumeMounts?.map((m) => m.mountPath)).toContain(UPSTREAM_AUTH_DIR);
    expect(validateConfig(r.config)).toMatchObject({ ok: true });
  });

  it('limits egress to DNS and the ports of the upstream, token endpoint, identity providers, API server and sinks', () => {
    const d = defaults({
      audit: { sinks: [{ type: 'stdout' }, { type: 'syslog', host: 'rsyslog', port: 6514 }] },
      telemetry: { otlpEndpoint: 'http://collector.monitoring:4318' },
    });
    const { r } = render(
      { url: VENDOR },
      {
        upstreamAuth: {
          clientCredentials: { tokenEndpoint: 'https://idp.vendor.example:9443/token', clientId: 'gw' },
        },
      },
      d,
    );
    const np = r.children.networkPolicy.spec;
    expect(np.policyTypes).toEqual(['Ingress', 'Egress']);
    expect(np.egress).toEqual([
      {
        ports: [
          { protocol: 'UDP', port: 53 },
          { protocol: 'TCP', port: 53 },
        ],
      },
      { ports: [443, 4318, 6443, 6514, 8443, 9443].map((port) => ({ protocol: 'TCP', port })) },
    ]);
    expect(np.ingress[0]).toEqual({ ports: [{ protocol: 'TCP', port: 8080 }] });
  });

  it('leaves egress of a hosted server unrestricted (its MCP container has its own needs)', () => {
    const r = renderServer({ server: server(), policies: [], defaults: defaults() });
    if (!r.ok) throw r.error;
    expect(r.children.networkPolicy.spec.policyTypes).toEqual(['Ingress']);
  });

  it('scales the gateway: replicas, and a PodDisruptionBudget above one', () => {
    const { r } = render({ url: VENDOR, replicas: 3 });
    expect(r.children.deployment.spec?.replicas).toBe(3);
    expect(r.children.podDisruptionBudget?.spec?.maxUnavailable).toBe(1);
  });

  it("lets the gateway's ServiceAccount patch its own McpServer's status and nothing else", () => {
    const { r } = render({ url: VENDOR, probeIntervalSeconds: 45 });
    expect(r.config.upstream.probe).toEqual({
      intervalMs: 45_000,
      timeoutMs: 10_000,
      reportStatus: true,
    });
    expect(r.children.gatewayRole?.rules).toEqual([
      {
        apiGroups: ['portcullis.dev'],
        resources: ['mcpservers/status'],
        resourceNames: ['everything'],
        verbs: ['patch'],
      },
    ]);
    expect(r.children.gatewayRoleBinding).toMatchObject({
      roleRef: { kind: 'Role', name: 'everything' },
      subjects: [{ kind: 'ServiceAccount', name: 'everything', namespace: 'team-a' }],
    });
    const hosted = renderServer({ server: server(), policies: [], defaults: defaults() });
    expect(hosted.ok && [hosted.children.gatewayRole, hosted.config.upstream.probe]).toEqual([
      undefined,
      undefined,
    ]);
  });

  it("puts the cluster's guardrails (ClusterMcpPolicy) first in the gateway's rules, as for hosted servers", () => {
    const s = server();
    delete s.spec.hosted;
    s.spec.external = {
      url: VENDOR,
      transport: 'streamable-http',
      allowInClusterHttp: false,
      replicas: 1,
      probeIntervalSeconds: 30,
    };
    const guardrail: ClusterMcpPolicy = {
      apiVersion: 'portcullis.dev/v1alpha1',
      kind: 'ClusterMcpPolicy',
      metadata: { name: 'no-deletes', uid: 'c-uid', generation: 1 },
      spec: {
        servers: {},
        rules: [
          { name: 'deny-delete', action: 'deny', subjects: [{ group: 'engineering' }], tools: ['delete_*'] },
        ],
      },
    };
    const r = renderServer({
      server: s,
      policies: [policy()],
      clusterPolicies: [guardrail],
      defaults: defaults(),
    });
    if (!r.ok) throw r.error;
    expect(r.config.authorization.rules.map((rule) => rule.name)).toEqual(['deny-delete', 'engineers-read']);
  });
});
