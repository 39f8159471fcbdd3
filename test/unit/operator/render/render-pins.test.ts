import { describe, expect, it } from 'vitest';
import type { McpServer } from '../../../../operator/src/api/mcp-server.ts';
import { MCP_CONTAINER, SIDECAR_CONTAINER, TOKEN_DIR } from '../../../../operator/src/render/layout.ts';
import { renderServer } from '../../../../operator/src/render/render-server.ts';
import { validateConfig } from '../../../../sidecar/src/config/load.ts';
import { defaults, policy, server } from '../api/builders.ts';

// Pinning on Kubernetes: the `<server>-pins` ConfigMap (trust store and observation report), a Role
// that lets the server's ServiceAccount get and patch that one ConfigMap, the binding, and the
// sidecar configuration that points at it.

function rendered(s: McpServer) {
  const r = renderServer({ server: s, policies: [policy()], defaults: defaults() });
  if (!r.ok) throw r.error;
  return r;
}

const withMode = (mode: 'Off' | 'Observe' | 'TrustOnFirstUse' | 'Enforce') =>
  server({ spec: { tools: { pinning: { mode } } } });

describe('pins children', () => {
  it('by default (TrustOnFirstUse) renders an empty ConfigMap the sidecars own the data of', () => {
    const { children } = rendered(server());
    expect(children.pinsConfigMap).toMatchObject({
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: 'everything-pins', namespace: 'team-a' },
    });
    expect(children.pinsConfigMap).not.toHaveProperty('data');
  });

  it('grants get and patch on that ConfigMap alone, by name, to the server ServiceAccount', () => {
    const { children } = rendered(server());
    expect(children.pinsRole?.rules).toEqual([
      {
        apiGroups: [''],
        resources: ['configmaps'],
        resourceNames: ['everything-pins'],
        verbs: ['get', 'patch'],
      },
    ]);
    expect(children.pinsRoleBinding).toMatchObject({
      metadata: { name: 'everything-pins', namespace: 'team-a' },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'everything-pins' },
      subjects: [{ kind: 'ServiceAccount', name: 'everything', namespace: 'team-a' }],
    });
    expect(children.deployment.spec?.template.spec?.serviceAccountName).toBe('everything');
  });

  it.each(['Observe', 'TrustOnFirstUse', 'Enforce'] as const)(
    'points the %s sidecar at the ConfigMap as trust store, in a configuration it accepts',
    (mode) => {
      const { config } = rendered(withMode(mode));
      expect(config.pinning).toEqual({ mode, trustStore: { configMap: 'everything-pins' } });
      expect(validateConfig(JSON.parse(JSON.stringify(config))).ok).toBe(true);
    },
  );

  it('passes spec.tools.pinning.maxDefinitions to the sidecar, in a configuration it accepts', () => {
    const { config } = rendered(server({ spec: { tools: { pinning: { maxDefinitions: 50 } } } }));
    expect(config.pinning).toEqual({
      mode: 'TrustOnFirstUse',
      maxDefinitions: 50,
      trustStore: { configMap: 'everything-pins' },
    });
    expect(validateConfig(JSON.parse(JSON.stringify(config))).ok).toBe(true);
  });

  it('renders none of it when pinning is Off', () => {
    const { children, config } = rendered(withMode('Off'));
    expect(children.pinsConfigMap).toBeUndefined();
    expect(children.pinsRole).toBeUndefined();
    expect(children.pinsRoleBinding).toBeUndefined();
    expect(config.pinning).toEqual({ mode: 'Off' });
  });

  it("projects the token for the API server's own audience unless the defaults name one", () => {
    const audienceOf = (r: ReturnType<typeof rendered>) =>
      r.children.deployment.spec?.template.spec?.volumes
        ?.flatMap((v) => v.projected?.sources ?? [])
        .find((s) => s.serviceAccountToken)?.serviceAccountToken?.audience;
    expect(audienceOf(rendered(server()))).toBeUndefined();
    const d = defaults();
    d.sidecar.tokenAudience = 'https://api.example.test';
    const r = renderServer({ server: server(), policies: [policy()], defaults: d });
    if (!r.ok) throw r.error;
    expect(audienceOf(r)).toBe('https://api.example.test');
  });

  it('mounts the token where in-cluster clients look, in the sidecar only, with the namespace', () => {
    const spec = rendered(server()).children.deployment.spec?.template.spec;
    const containers = spec?.containers ?? [];
    const mount = (name: string) =>
      containers.find((c) => c.name === name)?.volumeMounts?.find((m) => m.mountPath === TOKEN_DIR);
    expect(TOKEN_DIR).toBe('/var/run/secrets/kubernetes.io/serviceaccount');
    expect(mount(SIDECAR_CONTAINER)).toBeDefined();
    expect(mount(MCP_CONTAINER)).toBeUndefined();
    const sources = spec?.volumes?.find((v) => v.name === mount(SIDECAR_CONTAINER)?.name)?.projected?.sources;
    expect(sources?.flatMap((s) => s.downwardAPI?.items ?? [])).toEqual([
      { path: 'namespace', fieldRef: { apiVersion: 'v1', fieldPath: 'metadata.namespace' } },
    ]);
  });
});
