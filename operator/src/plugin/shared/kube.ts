import { readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { KubeClient } from '../../kube/client.ts';
import { loadConnection } from '../../kube/connection.ts';

// The cluster as a plugin command sees it: the operator's own client and connection (same kubeconfig
// rules: --kubeconfig, $KUBECONFIG, ~/.kube/config, in-cluster), and the namespace to work in
// (--namespace, else the current context's, else `default`, as kubectl does).

export interface PluginKube {
  readonly client: KubeClient;
  readonly namespace: string;
  close(): Promise<void>;
}

/** The namespace of a kubeconfig's current context, if it sets one. Pure. */
export function contextNamespace(kubeconfigText: string): string | undefined {
  const doc = parseYaml(kubeconfigText) as {
    'current-context'?: string;
    contexts?: { name?: string; context?: { namespace?: unknown } }[];
  } | null;
  const ns = doc?.contexts?.find((c) => c.name === doc['current-context'])?.context?.namespace;
  return typeof ns === 'string' && ns !== '' ? ns : undefined;
}

function kubeconfigNamespace(path: string | undefined): string | undefined {
  const file = path ?? process.env.KUBECONFIG?.split(':')[0] ?? join(homedir(), '.kube', 'config');
  try {
    return contextNamespace(readFileSync(file, 'utf8'));
  } catch {
    return undefined; // no kubeconfig: in-cluster, where `default` is kubectl's answer too
  }
}

export async function openKube(options: { kubeconfig?: string; namespace?: string }): Promise<PluginKube> {
  const connection = await loadConnection(options.kubeconfig);
  return {
    client: new KubeClient(connection),
    namespace: options.namespace ?? kubeconfigNamespace(options.kubeconfig) ?? 'default',
    close: () => connection.close(),
  };
}
