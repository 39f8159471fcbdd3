import type { V1Container, V1Deployment, V1PodSpec } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import type { McpPolicy } from '../../../../operator/src/api/mcp-policy.ts';
import type { McpServer } from '../../../../operator/src/api/mcp-server.ts';
import {
  MCP_CONTAINER,
  RESTART_HASH_ANNOTATION,
  SIDECAR_CONTAINER,
} from '../../../../operator/src/render/layout.ts';
import { renderServer } from '../../../../operator/src/render/render-server.ts';
import { defaults, policy, rule, server } from '../api/builders.ts';

function deployment(s: McpServer, policies: McpPolicy[] = [policy()], d = defaults()): V1Deployment {
  const r = renderServer({ server: s, policies, defaults: d });
  if (!r.ok) throw r.error;
  return r.children.deployment;
}
const pod = (dep: V1Deployment) => dep.spec?.template.spec as V1PodSpec;
const container = (dep: V1Deployment, name: string) =>
  pod(dep).containers.find((c) => c.name === name) as V1Container;
const mountedVolumes = (c: V1Container) => (c.volumeMounts ?? []).map((m) => m.name);

const cases = [
  { name: 'a plain server', object: server() },
  {
    name: 'a server with every override',
    object: server({
      hosted: {
        replicas: 3,
        securityContext: {
          runAsUser: 1000,
          runAsGroup: 1000,
          fsGroup: 2000,
          seccompProfile: { type: 'Localhost', localhostProfile: 'mcp.json' },
        },
        writablePaths: ['/data'],
        env: [{ name: 'TOKEN', valueFrom: { secretKeyRef: { name: 'upstream', key: 'token' } } }],
      },
      spec: {
        authentication: {
          apiKeys: { secretRef: { name: 'keys', key: 'api-keys.json' } },
          allowAnonymous: false,
        },
      },
    }),
  },
  {
    name: 'a stdio server',
    object: server({ hosted: { transport: 'stdio', port: undefined, command: ['python', '-m', 'server'] } }),
  },
];

describe('renderDeployment', () => {
  it.each(cases)('hardens every container of $name', ({ object }) => {
    const dep = deployment(object);
    expect(pod(dep).securityContext).toMatchObject({ runAsNonRoot: true });
    for (const c of [...pod(dep).containers, ...(pod(dep).initContainers ?? [])]) {
      expect(c.securityContext, c.name).toMatchObject({
        runAsNonRoot: true,
        readOnlyRootFilesystem: true,
        allowPrivilegeEscalation: false,
        privileged: false,
        capabilities: { drop: ['ALL'] },
      });
      expect(['RuntimeDefault', 'Localhost']).toContain(c.securityContext?.seccompProfile?.type);
    }
  });

  it.each(cases)('mounts the service-account token into the sidecar only, for $name', ({ object }) => {
    const dep = deployment(object);
    const spec = pod(dep);
    expect(spec.automountServiceAccountToken).toBe(false);
    expect(spec.serviceAccountName).toBe(object.metadata.name);
    const tokenVolumes = (spec.volumes ?? []).filter((v) =>
      v.projected?.sources?.some((s) => s.serviceAccountToken),
    );
    expect(tokenVolumes).toHaveLength(1);
    const token = tokenVolumes[0]?.projected?.sources?.find(
      (s) => s.serviceAccountToken,
    )?.serviceAccountToken;
    // By default the API server's own audience: the sidecar presents it to the API server only.
    expect(token).not.toHaveProperty('audience');
    expect(token?.expirationSeconds).toBe(3600);
    const tokenVolume = tokenVolumes[0]?.name as string;
    expect(mountedVolumes(container(dep, SIDECAR_CONTAINER))).toContain(tokenVolume);
    expect(mountedVolumes(container(dep, MCP_CONTAINER))).not.toContain(tokenVolume);
  });

  it('gives the MCP container nothing of the sidecar: no token, configuration or API keys', () => {
    const dep = deployment(cases[1]?.object as McpServer);
    const mcp = mountedVolumes(container(dep, MCP_CONTAINER));
    expect(mcp).toEqual(['tmp', 'writable-0']);
    expect(mountedVolumes(container(dep, SIDECAR_CONTAINER))).toEqual(
      expect.arrayContaining(['portcullis-config', 'portcullis-token', 'portcullis-api-keys']),
    );
  });

  it('keeps the hardening when the McpServer overrides pod security settings', () => {
    const dep = deployment(cases[1]?.object as McpServer);
    expect(pod(dep).securityContext).toEqual({
      runAsNonRoot: true,
      runAsUser: 1000,
      runAsGroup: 1000,
      fsGroup: 2000,
      seccompProfile: { type: 'Localhost', localhostProfile: 'mcp.json' },
    });
    // The sidecar keeps its own identity whatever the pod-level override says.
    expect(container(dep, SIDECAR_CONTAINER).securityContext).toMatchObject({
      runAsUser: 65532,
      runAsGroup: 65532,
    });
  });

  it('probes the sidecar on its admin port and names its ports', () => {
    const sidecar = container(deployment(server()), SIDECAR_CONTAINER);
    expect(sidecar.ports).toEqual([
      { name: 'mcp', containerPort: 8080, protocol: 'TCP' },
      { name: 'metrics', containerPort: 9090, protocol: 'TCP' },
    ]);
    expect(sidecar.readinessProbe?.httpGet).toEqual({ path: '/readyz', port: 'metrics' });
    expect(sidecar.livenessProbe?.httpGet).toEqual({ path: '/healthz', port: 'metrics' });
    expect(sidecar.args).toEqual(['--config', '/etc/portcullis/config/sidecar.json']);
  });

  it.each(cases)(
    'shuts $name down in order: the sidecar serves on while the Service drops the pod, the MCP server outlives its drain',
    ({ object }) => {
      const dep = deployment(object);
      const delay = (name: string) => container(dep, name).lifecycle?.preStop?.sleep?.seconds ?? 0;
      expect(delay(SIDECAR_CONTAINER)).toBeGreaterThan(0);
      // The sidecar's drain (20 s at most) runs after its delay; the MCP server gets SIGTERM later.
      expect(delay(MCP_CONTAINER)).toBeGreaterThan(delay(SIDECAR_CONTAINER));
      expect(pod(dep).terminationGracePeriodSeconds).toBeGreaterThanOrEqual(delay(SIDECAR_CONTAINER) + 20);
      expect(pod(dep).terminationGracePeriodSeconds).toBeGreaterThan(delay(MCP_CONTAINER));
    },
  );

  it('runs the MCP container as written: image, args, env; replicas on the Deployment', () => {
    const dep = deployment(cases[1]?.object as McpServer);
    const mcp = container(dep, MCP_CONTAINER);
    expect(mcp.image).toBe('mcp/everything:1');
    expect(mcp.env).toEqual([
      { name: 'TOKEN', valueFrom: { secretKeyRef: { name: 'upstream', key: 'token' } } },
    ]);
    expect(mcp.resources).toEqual({
      requests: { cpu: '100m', memory: '128Mi' },
      limits: { memory: '512Mi' },
    });
    expect(dep.spec?.replicas).toBe(3);
  });

  const hash = (dep: V1Deployment) => dep.spec?.template.metadata?.annotations?.[RESTART_HASH_ANNOTATION];

  it.each([
    {
      name: 'a changed policy rule',
      after: { object: server(), policies: [policy({ rules: [rule({ tools: ['*'] })] })] },
    },
    { name: 'an added policy', after: { object: server(), policies: [policy(), policy({ name: 'more' })] } },
    { name: 'all policies removed', after: { object: server(), policies: [] } },
    {
      name: 'a new audience',
      after: {
        object: server({ spec: { authentication: { audiences: ['x'], allowAnonymous: false } } }),
        policies: [policy()],
      },
    },
  ])('leaves the pod template (and so the MCP container) alone on $name', ({ after }) => {
    const before = deployment(server());
    const next = deployment(after.object, after.policies);
    expect(next.spec?.template).toEqual(before.spec?.template);
  });

  it.each([
    { name: 'the upstream port', object: server({ hosted: { port: 3002 } }) },
    { name: 'the transport', object: server({ hosted: { transport: 'sse' } }) },
  ])('rolls the pods when $name changes', ({ object }) => {
    expect(hash(deployment(object))).not.toBe(hash(deployment(server())));
  });
});
