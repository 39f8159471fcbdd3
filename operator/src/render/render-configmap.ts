import { createHash } from 'node:crypto';
import type { V1ConfigMap } from '@kubernetes/client-node';
import type { SidecarConfig } from '../../../sidecar/src/contract/index.ts';
import type { McpServer } from '../api/mcp-server.ts';
import { CONFIG_FILE } from './layout.ts';
import { childMeta } from './meta.ts';
import { restartRelevant } from './sidecar-config.ts';

// The ConfigMap the sidecar reads its configuration from. The sidecar watches the mounted file and
// reloads it, so policy changes reach it by updating this object alone, without a restart.

export function configText(config: SidecarConfig): string {
  return `${JSON.stringify(config, null, 2)}\n`;
}

export function renderConfigMap(server: McpServer, config: SidecarConfig): V1ConfigMap {
  return {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: childMeta(server),
    data: { [CONFIG_FILE]: configText(config) },
  };
}

/** Short hash of the settings that need a restart; it goes on the pod template. */
export function restartHash(config: SidecarConfig): string {
  return createHash('sha256')
    .update(JSON.stringify(restartRelevant(config)))
    .digest('hex')
    .slice(0, 16);
}
