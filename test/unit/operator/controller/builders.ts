import type { McpPolicy } from '../../../../operator/src/api/mcp-policy.ts';
import type { McpServer } from '../../../../operator/src/api/mcp-server.ts';
import type { KubeObject } from '../../../../operator/src/kube/object.ts';

// Small builders for the objects the controller tests need.

export function server(
  name: string,
  labels: Record<string, string> = {},
  generation = 1,
  ns = 'team',
): McpServer {
  return {
    apiVersion: 'portcullis.dev/v1alpha1',
    kind: 'McpServer',
    metadata: {
      name,
      namespace: ns,
      uid: `uid-${name}`,
      generation,
      labels,
      resourceVersion: String(generation),
    },
    spec: { hosted: { image: 'mcp:1', transport: 'streamable-http', port: 3000, replicas: 1 } },
  };
}

export function policy(
  name: string,
  matchLabels: Record<string, string>,
  generation = 1,
  rules: McpPolicy['spec']['rules'] = [],
  ns = 'team',
): McpPolicy {
  return {
    apiVersion: 'portcullis.dev/v1alpha1',
    kind: 'McpPolicy',
    metadata: { name, namespace: ns, uid: `uid-${name}`, generation, resourceVersion: String(generation) },
    spec: { servers: { matchLabels }, rules },
  };
}

export function child(
  kind: string,
  name: string,
  owner?: { kind: string; name: string },
  ns = 'team',
): KubeObject {
  return {
    apiVersion: kind === 'Deployment' ? 'apps/v1' : 'v1',
    kind,
    metadata: {
      name,
      namespace: ns,
      resourceVersion: '1',
      ownerReferences: owner
        ? [
            {
              apiVersion: 'portcullis.dev/v1alpha1',
              kind: owner.kind,
              name: owner.name,
              uid: 'u',
              controller: true,
            },
          ]
        : undefined,
    },
  };
}
