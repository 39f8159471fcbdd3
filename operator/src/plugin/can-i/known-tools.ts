import type { SidecarConfig } from '../../../../sidecar/src/contract/index.ts';
import type { KubeClient } from '../../kube/client.ts';
import type { KubeObject } from '../../kube/object.ts';
import { Resources } from '../../kube/resources.ts';

// The tools of a server the cluster knows by name, for `can-i --all`: approved pins in the rendered
// configuration (spec.tools.pins) and the pins the sidecars trusted on first use, in the trust-store
// ConfigMap the configuration names. Keys there are `trusted.<base64url of the pin key>` and tool
// pin keys are `tool/<name>` (sidecar/src/pinning/configmap-store.ts writes them).

const TRUSTED = 'trusted.';
const TOOL = 'tool/';

/** Pure: tool names among a trust store's data keys. */
export function toolsOfTrustStore(data: Readonly<Record<string, string>>): string[] {
  return Object.keys(data)
    .filter((k) => k.startsWith(TRUSTED))
    .map((k) => Buffer.from(k.slice(TRUSTED.length), 'base64url').toString())
    .filter((key) => key.startsWith(TOOL))
    .map((key) => key.slice(TOOL.length));
}

export async function knownTools(
  client: KubeClient,
  namespace: string,
  config: SidecarConfig,
): Promise<string[]> {
  const names = new Set<string>();
  for (const pin of config.pinning?.pins ?? []) if (pin.kind === 'tool' && pin.name) names.add(pin.name);
  const store = config.pinning?.trustStore?.configMap;
  if (store !== undefined) {
    const cm = await client.get<KubeObject & { data?: Record<string, string> }>(
      Resources.ConfigMap,
      namespace,
      store,
    );
    for (const name of toolsOfTrustStore(cm?.data ?? {})) names.add(name);
  }
  return [...names].sort();
}
