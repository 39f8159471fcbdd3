import type { V1Role, V1RoleBinding } from '@kubernetes/client-node';
import { GROUP } from '../api/group.ts';
import type { McpServer } from '../api/mcp-server.ts';
import { childMeta } from './meta.ts';

// What a gateway pod's ServiceAccount may do with the API server: patch the status of its own
// McpServer (the upstream probe's report), nothing else. Server-side apply is a patch, so no get;
// resourceNames keeps it to this one object; the operator holds the same right, so it may grant it.

export function renderGatewayRole(server: McpServer): V1Role {
  return {
    apiVersion: 'rbac.authorization.k8s.io/v1',
    kind: 'Role',
    metadata: childMeta(server),
    rules: [
      {
        apiGroups: [GROUP],
        resources: ['mcpservers/status'],
        resourceNames: [server.metadata.name],
        verbs: ['patch'],
      },
    ],
  };
}

export function renderGatewayRoleBinding(server: McpServer): V1RoleBinding {
  const { name, namespace } = server.metadata;
  return {
    apiVersion: 'rbac.authorization.k8s.io/v1',
    kind: 'RoleBinding',
    metadata: childMeta(server),
    roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name },
    subjects: [{ kind: 'ServiceAccount', name, ...(namespace ? { namespace } : {}) }],
  };
}
