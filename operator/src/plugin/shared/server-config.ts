import { Compile } from 'typebox/compile';
import { SidecarConfig } from '../../../../sidecar/src/contract/index.ts';
import { LABELS, MANAGED_BY } from '../../api/group.ts';
import { MCP_SERVER_KIND } from '../../api/mcp-server.ts';
import type { KubeClient } from '../../kube/client.ts';
import type { KubeObject } from '../../kube/object.ts';
import { Resources } from '../../kube/resources.ts';
import { CONFIG_FILE } from '../../render/layout.ts';

// What a server's sidecars actually enforce: the configuration the operator rendered into the
// server's ConfigMap (what the pods mount), read through the sidecar's own schema. Not a
// recomputation from the McpPolicies: a policy that is not accepted, a server whose ConfigMap has not
// been rewritten yet, or a cluster policy folded in all show as they are in force.

const schema = Compile(SidecarConfig);

interface ConfigMap extends KubeObject {
  data?: Record<string, string>;
}

export class ServerConfigError extends Error {
  override readonly name = 'ServerConfigError';
}

/** The rendered configuration of McpServer `namespace/name`; refuses a ConfigMap Portcullis does not own. */
export async function readServerConfig(
  client: KubeClient,
  namespace: string,
  name: string,
): Promise<{ config: SidecarConfig; configMap: ConfigMap }> {
  const where = `ConfigMap ${namespace}/${name}`;
  const cm = await client.get<ConfigMap>(Resources.ConfigMap, namespace, name);
  if (cm === undefined) {
    throw new ServerConfigError(
      `${where} not found: is McpServer ${namespace}/${name} there and reconciled (kubectl get mcps -n ${namespace})?`,
    );
  }
  const owned =
    cm.metadata.labels?.[LABELS.managedBy] === MANAGED_BY &&
    (cm.metadata.ownerReferences ?? []).some((o) => o.kind === MCP_SERVER_KIND && o.name === name);
  if (!owned)
    throw new ServerConfigError(
      `${where} is not the configuration Portcullis rendered for McpServer ${name}`,
    );
  const text = cm.data?.[CONFIG_FILE];
  if (text === undefined) throw new ServerConfigError(`${where} has no ${CONFIG_FILE}`);
  let config: unknown;
  try {
    config = JSON.parse(text);
  } catch (err) {
    throw new ServerConfigError(`${where}: ${CONFIG_FILE} is not JSON: ${(err as Error).message}`);
  }
  // The operator renders every field the schema requires; what does not conform is not trusted.
  const fault = schema.Errors(config)[0];
  if (fault !== undefined) {
    throw new ServerConfigError(`${where}: ${fault.instancePath || '/'}: ${fault.message}`);
  }
  return { config: config as SidecarConfig, configMap: cm };
}
