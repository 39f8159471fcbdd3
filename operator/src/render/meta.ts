import type { V1ObjectMeta, V1OwnerReference } from '@kubernetes/client-node';
import { API_VERSION, LABELS, MANAGED_BY, PART_OF } from '../api/group.ts';
import { MCP_SERVER_KIND, type McpServer } from '../api/mcp-server.ts';

// Names, labels and the owner reference every child of an McpServer carries. Children take the
// server's name (a DNS label, checked by the CRD); the pinning trust store and its RBAC take
// `<server>-pins`, beside the server's own ConfigMap.

/** app.kubernetes.io/name of everything the operator renders for a server. */
export const APP_NAME = 'mcp-server';

/** Labels that select a server's pods: stable for the life of the Deployment (its selector is immutable). */
export function selectorLabels(server: McpServer): Record<string, string> {
  return { [LABELS.name]: APP_NAME, [LABELS.instance]: server.metadata.name };
}

export function childLabels(server: McpServer): Record<string, string> {
  return {
    ...selectorLabels(server),
    [LABELS.partOf]: PART_OF,
    [LABELS.managedBy]: MANAGED_BY,
  };
}

export function ownerReference(server: McpServer): V1OwnerReference {
  return {
    apiVersion: API_VERSION,
    kind: MCP_SERVER_KIND,
    name: server.metadata.name,
    uid: server.metadata.uid ?? '',
    controller: true,
    blockOwnerDeletion: true,
  };
}

/** Name of the pins ConfigMap, and of the Role and RoleBinding that let the sidecar write it. */
export const pinsName = (server: McpServer) => `${server.metadata.name}-pins`;

/** Every name a child of the server can have. */
export const childNames = (server: McpServer) => [server.metadata.name, pinsName(server)];

/** metadata of a child object: name, namespace, labels, owner. */
export function childMeta(
  server: McpServer,
  extra: { annotations?: Record<string, string>; name?: string } = {},
): V1ObjectMeta {
  return {
    name: extra.name ?? server.metadata.name,
    namespace: server.metadata.namespace,
    labels: childLabels(server),
    ...(extra.annotations ? { annotations: extra.annotations } : {}),
    ownerReferences: [ownerReference(server)],
  };
}
