import type { V1ConfigMap, V1Role, V1RoleBinding } from '@kubernetes/client-node';
import type { McpServer } from '../api/mcp-server.ts';
import { childMeta, pinsName } from './meta.ts';

// Tool-definition pinning on Kubernetes: the `<server>-pins` ConfigMap is the sidecars' trust store
// (pins trusted on first use, so a new pod never trusts anew) and their observation report (what
// status and `kubectl portcullis tools` show). The operator creates it empty and never writes its
// data; the sidecars write it with the server's ServiceAccount, which a Role allows get and patch on
// that one ConfigMap by name, nothing else. Approved pins are not here: they are spec.tools.pins.

export interface PinsChildren {
  configMap: V1ConfigMap;
  role: V1Role;
  roleBinding: V1RoleBinding;
}

export function renderPins(server: McpServer): PinsChildren {
  const name = pinsName(server);
  const meta = () => childMeta(server, { name });
  return {
    // No data: server-side apply then owns only the metadata, and the sidecars' keys stay theirs.
    configMap: { apiVersion: 'v1', kind: 'ConfigMap', metadata: meta() },
    role: {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'Role',
      metadata: meta(),
      // get: load the pins at start; patch: store a pin (with its resourceVersion) and the report.
      rules: [{ apiGroups: [''], resources: ['configmaps'], resourceNames: [name], verbs: ['get', 'patch'] }],
    },
    roleBinding: {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'RoleBinding',
      metadata: meta(),
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name },
      subjects: [
        { kind: 'ServiceAccount', name: server.metadata.name, namespace: server.metadata.namespace },
      ],
    },
  };
}
