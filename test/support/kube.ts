// Helpers for tests against the control plane that the `kube` project's global setup starts.
import { randomBytes } from 'node:crypto';
import { KubeConfig } from '@kubernetes/client-node';
import { inject } from 'vitest';
import { runKubectl } from '../cluster/control-plane.ts';

export { KubectlError } from '../cluster/control-plane.ts';

export function kubectl(args: string[], input?: string): Promise<string> {
  return runKubectl(inject('kubectl'), inject('kubeconfig'), args, input);
}

export async function kubectlJson<T = Record<string, unknown>>(args: string[]): Promise<T> {
  return JSON.parse(await kubectl([...args, '-o', 'json'])) as T;
}

export function uniqueName(prefix: string): string {
  return `${prefix}-${randomBytes(3).toString('hex')}`;
}

/** Creates a namespace with a unique name; the returned function deletes it. */
export async function createNamespace(
  prefix: string,
): Promise<{ name: string; remove: () => Promise<void> }> {
  const name = uniqueName(prefix);
  await kubectl(['create', 'namespace', name]);
  return { name, remove: async () => void (await kubectl(['delete', 'namespace', name, '--wait=false'])) };
}

/** Polls until `probe` returns a value other than undefined, or throws with the last error. */
export async function eventually<T>(
  what: string,
  probe: () => Promise<T | undefined>,
  { timeoutMs = 60_000, intervalMs = 250 } = {},
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await probe();
      if (value !== undefined) return value;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline)
      throw new Error(`timed out waiting for ${what}${last ? `: ${String(last)}` : ''}`);
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

/**
 * A kubeconfig that acts as a ServiceAccount, as a pod running as it does: a token from the
 * TokenRequest API (`kubectl create token`) and the test cluster's address and CA.
 */
export async function serviceAccountKubeConfig(
  namespace: string,
  serviceAccount: string,
): Promise<KubeConfig> {
  const token = (await kubectl(['create', 'token', serviceAccount, '-n', namespace])).trim();
  const admin = new KubeConfig();
  admin.loadFromFile(inject('kubeconfig'));
  const cluster = admin.getCurrentCluster();
  if (cluster === null) throw new Error('no cluster in the kubeconfig');
  const kc = new KubeConfig();
  kc.loadFromOptions({
    clusters: [cluster],
    users: [{ name: serviceAccount, token }],
    contexts: [{ name: serviceAccount, cluster: cluster.name, user: serviceAccount, namespace }],
    currentContext: serviceAccount,
  });
  return kc;
}
