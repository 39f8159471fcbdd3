import type { McpServer } from '../../api/mcp-server.ts';
import type { KubeObject } from '../../kube/object.ts';
import { Resources } from '../../kube/resources.ts';
import { pinsName } from '../../render/meta.ts';
import { UsageError } from '../shared/command.ts';
import type { PluginKube } from '../shared/kube.ts';
import { type PinsView, pinsView } from './pins-view.ts';

// What every `tools` command reads: the McpServer (its mode and approved pins) and the sidecars'
// reports in its `<server>-pins` ConfigMap.

export async function readPins(
  kube: PluginKube,
  positionals: readonly string[],
  now = new Date(),
): Promise<{ server: McpServer; view: PinsView; names: string[] }> {
  const [name, ...names] = positionals;
  if (name === undefined) throw new UsageError('name the McpServer');
  const server = await kube.client.get<McpServer & KubeObject>(Resources.McpServer, kube.namespace, name);
  if (server === undefined) throw new Error(`McpServer ${kube.namespace}/${name} not found`);
  const cm = await kube.client.get<KubeObject & { data?: Record<string, string> }>(
    Resources.ConfigMap,
    kube.namespace,
    pinsName(server),
  );
  return { server, view: pinsView(server, cm?.data, now), names };
}
