// The API resources the operator reads and writes, with the paths the API server serves them at.
// A fixed table (no discovery round trip): the operator only ever touches these kinds.

export interface ResourceType {
  readonly apiVersion: string;
  readonly kind: string;
  readonly plural: string;
  readonly namespaced: boolean;
}

const rt = (apiVersion: string, kind: string, plural: string, namespaced = true): ResourceType => ({
  apiVersion,
  kind,
  plural,
  namespaced,
});

export const Resources = {
  McpServer: rt('portcullis.dev/v1alpha1', 'McpServer', 'mcpservers'),
  McpPolicy: rt('portcullis.dev/v1alpha1', 'McpPolicy', 'mcppolicies'),
  ClusterMcpPolicy: rt('portcullis.dev/v1alpha1', 'ClusterMcpPolicy', 'clustermcppolicies', false),
  Deployment: rt('apps/v1', 'Deployment', 'deployments'),
  Service: rt('v1', 'Service', 'services'),
  ConfigMap: rt('v1', 'ConfigMap', 'configmaps'),
  Pod: rt('v1', 'Pod', 'pods'),
  ServiceAccount: rt('v1', 'ServiceAccount', 'serviceaccounts'),
  NetworkPolicy: rt('networking.k8s.io/v1', 'NetworkPolicy', 'networkpolicies'),
  PodDisruptionBudget: rt('policy/v1', 'PodDisruptionBudget', 'poddisruptionbudgets'),
  Lease: rt('coordination.k8s.io/v1', 'Lease', 'leases'),
  Event: rt('events.k8s.io/v1', 'Event', 'events'),
  Namespace: rt('v1', 'Namespace', 'namespaces', false),
  CustomResourceDefinition: rt(
    'apiextensions.k8s.io/v1',
    'CustomResourceDefinition',
    'customresourcedefinitions',
    false,
  ),
} as const satisfies Record<string, ResourceType>;

export type ResourceName = keyof typeof Resources;

const byApiVersionKind = new Map<string, ResourceType>(
  Object.values(Resources).map((r) => [`${r.apiVersion}/${r.kind}`, r]),
);

/** The resource type of a manifest, or undefined for a kind the operator does not handle. */
export function resourceOf(apiVersion: string, kind: string): ResourceType | undefined {
  return byApiVersionKind.get(`${apiVersion}/${kind}`);
}

function groupPrefix(apiVersion: string): string {
  return apiVersion.includes('/') ? `/apis/${apiVersion}` : `/api/${apiVersion}`;
}

/** Path of a collection: all namespaces when namespace is undefined (or the kind is cluster-scoped). */
export function collectionPath(r: ResourceType, namespace?: string): string {
  const ns = r.namespaced && namespace ? `/namespaces/${encodeURIComponent(namespace)}` : '';
  return `${groupPrefix(r.apiVersion)}${ns}/${r.plural}`;
}

export function objectPath(
  r: ResourceType,
  namespace: string | undefined,
  name: string,
  sub?: string,
): string {
  const base = `${collectionPath(r, namespace)}/${encodeURIComponent(name)}`;
  return sub ? `${base}/${sub}` : base;
}
