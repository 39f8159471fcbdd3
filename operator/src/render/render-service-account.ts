import type { V1ServiceAccount } from '@kubernetes/client-node';
import type { McpServer } from '../api/mcp-server.ts';
import { childMeta } from './meta.ts';

// The pods' own identity. No token is mounted automatically: the Deployment projects one, with an
// audience and an expiry, into the sidecar alone.

export function renderServiceAccount(server: McpServer): V1ServiceAccount {
  return {
    apiVersion: 'v1',
    kind: 'ServiceAccount',
    metadata: childMeta(server),
    automountServiceAccountToken: false,
  };
}
