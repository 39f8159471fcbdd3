import { describe, expect, it } from 'vitest';
import type { McpServer } from '../../../../operator/src/api/mcp-server.ts';
import type { OperatorDefaults } from '../../../../operator/src/api/operator-defaults.ts';
import { renderServer } from '../../../../operator/src/render/render-server.ts';
import { defaults, policy, server } from '../api/builders.ts';

// Service, NetworkPolicy, PodDisruptionBudget, ServiceAccount, and what every child shares.

function children(s: McpServer = server(), d: OperatorDefaults = defaults()) {
  const r = renderServer({ server: s, policies: [policy()], defaults: d });
  if (!r.ok) throw r.error;
  return r.children;
}

describe('every child', () => {
  const all = Object.entries(children(server({ hosted: { replicas: 2 } })));

  it.each(all)('%s carries the managed-by labels and an owner reference to the McpServer', (_, child) => {
    expect(child?.metadata).toMatchObject({
      // The pinning trust store and its RBAC take `<server>-pins`; everything else the server's name.
      name: expect.stringMatching(/^everything(-pins)?$/),
      namespace: 'team-a',
      labels: {
        'app.kubernetes.io/managed-by': 'portcullis',
        'app.kubernetes.io/name': 'mcp-server',
        'app.kubernetes.io/instance': 'everything',
        'app.kubernetes.io/part-of': 'portcullis',
      },
      ownerReferences: [
        {
          apiVersion: 'portcullis.dev/v1alpha1',
          kind: 'McpServer',
          name: 'everything',
          uid: '6f1f2c1e-0000-4000-8000-000000000001',
          controller: true,
          blockOwnerDeletion: true,
        },
      ],
    });
    expect(child).toHaveProperty('apiVersion');
    expect(child).toHaveProperty('kind');
  });

  it('renders equal objects from equal inputs (an unchanged cluster gives unchanged objects)', () => {
    expect(children()).toEqual(children());
  });
});

describe('renderService', () => {
  it('sends the port named mcp to the sidecar and keeps metrics on a port of their own', () => {
    const { service } = children();
    expect(service.spec?.selector).toEqual({
      'app.kubernetes.io/name': 'mcp-server',
      'app.kubernetes.io/instance': 'everything',
    });
    expect(service.spec?.ports).toEqual([
      { name: 'mcp', port: 80, targetPort: 'mcp', protocol: 'TCP', appProtocol: 'http' },
      { name: 'metrics', port: 9090, targetPort: 'metrics', protocol: 'TCP', appProtocol: 'http' },
    ]);
  });
});

describe('renderNetworkPolicy', () => {
  it.each([
    {
      name: 'with a monitoring namespace',
      d: defaults(),
      ingress: [
        { ports: [{ protocol: 'TCP', port: 8080 }] },
        {
          from: [{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'monitoring' } } }],
          ports: [{ protocol: 'TCP', port: 9090 }],
        },
      ],
    },
    {
      name: 'without one (metrics closed)',
      d: defaults({ monitoring: {} }),
      ingress: [{ ports: [{ protocol: 'TCP', port: 8080 }] }],
    },
    {
      name: 'with other sidecar ports',
      d: defaults({ sidecar: { image: 'i', port: 8443, adminPort: 9443 }, monitoring: { namespace: 'obs' } }),
      ingress: [
        { ports: [{ protocol: 'TCP', port: 8443 }] },
        {
          from: [{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'obs' } } }],
          ports: [{ protocol: 'TCP', port: 9443 }],
        },
      ],
    },
  ])('admits only the sidecar port, $name', ({ d, ingress }) => {
    const { networkPolicy } = children(server(), d);
    expect(networkPolicy.spec.policyTypes).toEqual(['Ingress']);
    expect(networkPolicy.spec.podSelector?.matchLabels).toEqual({
      'app.kubernetes.io/name': 'mcp-server',
      'app.kubernetes.io/instance': 'everything',
    });
    expect(networkPolicy.spec.ingress).toEqual(ingress);
    // Never the MCP server's own port.
    expect(JSON.stringify(networkPolicy.spec.ingress)).not.toContain('3001');
  });
});

describe('renderPodDisruptionBudget', () => {
  it.each([
    { replicas: 0, rendered: false },
    { replicas: 1, rendered: false },
    { replicas: 2, rendered: true },
    { replicas: 5, rendered: true },
  ])('replicas $replicas: rendered $rendered', ({ replicas, rendered }) => {
    const { podDisruptionBudget } = children(server({ hosted: { replicas } }));
    expect(podDisruptionBudget !== undefined).toBe(rendered);
    if (podDisruptionBudget) {
      expect(podDisruptionBudget.spec).toEqual({
        maxUnavailable: 1,
        selector: {
          matchLabels: { 'app.kubernetes.io/name': 'mcp-server', 'app.kubernetes.io/instance': 'everything' },
        },
      });
    }
  });
});

describe('renderServiceAccount', () => {
  it('turns off automatic token mounting', () => {
    expect(children().serviceAccount).toMatchObject({
      kind: 'ServiceAccount',
      automountServiceAccountToken: false,
    });
  });
});
