import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import {
  KubeConfig,
  type V1ConfigMap,
  type V1Container,
  type V1Deployment,
  type V1Secret,
  type V1Volume,
} from '@kubernetes/client-node';
import type { SidecarConfig } from '../../sidecar/src/contract/index.ts';
import { freePort } from '../../sidecar/src/quickstart/everything.ts';
import { kubectl, kubectlJson } from './kube.ts';
import { spawnSidecar } from './sidecar-process.ts';

// A rendered McpServer's sidecar run as its pod would run it, on the host: the operator's Deployment
// and ConfigMap read back from the real API server, every volume the sidecar container mounts laid
// out in a folder as the kubelet would (ConfigMap and Secret keys, the projected ServiceAccount token
// and cluster CA, the downward API), the configuration's mount paths pointed at that folder, and
// `node sidecar/src/main.ts --config` started with the pod's environment (POD_NAME, POD_NAMESPACE).
// Only the listen addresses change (free loopback ports), and the Kubernetes client finds the pod's
// ServiceAccount through $KUBECONFIG (a token of that ServiceAccount), as a sidecar outside a pod does:
// on the host there is no in-cluster token at the standard path.

const SIDECAR_CONTAINER = 'portcullis-sidecar';
const CONFIG_FILE = 'sidecar.json';

export interface PodSidecar {
  readonly url: string;
  readonly adminUrl: string;
  readonly podName: string;
  /** Everything the sidecar wrote to standard output (audit NDJSON and log lines). */
  output(): string;
  /** Lays the volumes out again from the API server, as the kubelet's sync of a changed ConfigMap or Secret. */
  syncVolumes(): Promise<void>;
  close(): Promise<void>;
}

export interface PodSidecarOptions {
  readonly namespace: string;
  readonly server: string;
  readonly kubeconfig: string;
}

async function get<T>(namespace: string, resource: string): Promise<T> {
  return kubectlJson<T>(['-n', namespace, 'get', resource]);
}

function decoded(secret: V1Secret): Record<string, string> {
  return Object.fromEntries(
    Object.entries(secret.data ?? {}).map(([k, v]) => [k, Buffer.from(v, 'base64').toString()]),
  );
}

async function writeItems(
  dir: string,
  data: Record<string, string>,
  items: readonly { key: string; path: string }[] | undefined,
): Promise<void> {
  const pairs = items ?? Object.keys(data).map((key) => ({ key, path: key }));
  for (const { key, path } of pairs) {
    const value = data[key];
    if (value === undefined) throw new Error(`key ${key} missing from a volume source`);
    await mkdir(dirname(join(dir, path)), { recursive: true });
    await writeFile(join(dir, path), value);
  }
}

/** One volume's files, as the kubelet writes them. */
async function layOut(
  namespace: string,
  serviceAccount: string,
  podName: string,
  volume: V1Volume,
  dir: string,
) {
  await mkdir(dir, { recursive: true });
  if (volume.emptyDir) return;
  if (volume.configMap) {
    const cm = await get<V1ConfigMap>(namespace, `configmap/${volume.configMap.name}`);
    return writeItems(dir, cm.data ?? {}, volume.configMap.items);
  }
  if (volume.secret) {
    const secret = await get<V1Secret>(namespace, `secret/${volume.secret.secretName}`);
    return writeItems(dir, decoded(secret), volume.secret.items);
  }
  for (const source of volume.projected?.sources ?? []) {
    if (source.configMap) {
      const cm = await get<V1ConfigMap>(namespace, `configmap/${source.configMap.name}`);
      await writeItems(dir, cm.data ?? {}, source.configMap.items);
    } else if (source.secret) {
      const secret = await get<V1Secret>(namespace, `secret/${source.secret.name}`);
      await writeItems(dir, decoded(secret), source.secret.items);
    } else if (source.serviceAccountToken) {
      // The API server's own audience: what the test API server accepts for its clients (a real
      // cluster's kubelet would use the rendered audience, which names the same API server).
      const token = await kubectl(['-n', namespace, 'create', 'token', serviceAccount]);
      await writeFile(join(dir, source.serviceAccountToken.path), token.trim());
    } else if (source.downwardAPI) {
      const fields: Record<string, string> = { 'metadata.namespace': namespace, 'metadata.name': podName };
      for (const item of source.downwardAPI.items ?? []) {
        const value = fields[item.fieldRef?.fieldPath ?? ''];
        if (value === undefined)
          throw new Error(`volume ${volume.name}: downward API field ${item.fieldRef?.fieldPath}`);
        await writeFile(join(dir, item.path), value);
      }
    } else {
      throw new Error(`volume ${volume.name}: a projected source this helper does not lay out`);
    }
  }
}

/** Mount paths as literal regular-expression text (RegExp.escape is not in this TypeScript lib yet). */
const quoteRegExp = (path: string) => path.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

export async function startPodSidecar(opts: PodSidecarOptions): Promise<PodSidecar> {
  const { namespace, server } = opts;
  const deployment = await get<V1Deployment>(namespace, `deployment/${server}`);
  const pod = deployment.spec?.template.spec;
  const container = pod?.containers.find((c) => c.name === SIDECAR_CONTAINER) as V1Container;
  const serviceAccount = pod?.serviceAccountName ?? 'default';
  const root = await mkdtemp(join(tmpdir(), `pod-${server}-`));
  const mounts = (container.volumeMounts ?? []).map((m) => ({
    mountPath: m.mountPath,
    local: join(root, 'volumes', m.name),
    volume: pod?.volumes?.find((v) => v.name === m.name) as V1Volume,
  }));
  const podName = `${server}-7f9c4d-test`;
  const syncVolumes = async () => {
    for (const m of mounts) await layOut(namespace, serviceAccount, podName, m.volume, m.local);
  };
  await syncVolumes();

  const configMount = mounts.find((m) => m.volume.configMap?.name === server);
  if (!configMount) throw new Error(`Deployment ${server} mounts no ConfigMap ${server}`);
  let text = (await get<V1ConfigMap>(namespace, `configmap/${server}`)).data?.[CONFIG_FILE] ?? '';
  // One pass (a rewritten path must not be rewritten again); longest first, so a mount inside
  // another's path goes to its own folder.
  const byPath = new Map(mounts.map((m) => [m.mountPath, m.local]));
  const paths = [...byPath.keys()].sort((a, b) => b.length - a.length);
  text = text.replace(
    new RegExp(`"(${paths.map(quoteRegExp).join('|')})/`, 'g'),
    (_, path: string) => `"${byPath.get(path)}/`,
  );
  const config = JSON.parse(text) as SidecarConfig;
  const [port, adminPort] = [await freePort(), await freePort()];
  config.listen = { ...config.listen, host: '127.0.0.1', port };
  config.admin = { ...config.admin, host: '127.0.0.1', port: adminPort };

  const admin = new KubeConfig();
  admin.loadFromFile(opts.kubeconfig);
  const cluster = admin.getCurrentCluster();
  if (cluster === null) throw new Error('no cluster in the kubeconfig');
  const token = (await kubectl(['-n', namespace, 'create', 'token', serviceAccount])).trim();
  const podIdentity = new KubeConfig();
  podIdentity.loadFromOptions({
    clusters: [cluster],
    users: [{ name: serviceAccount, token }],
    contexts: [{ name: serviceAccount, cluster: cluster.name, user: serviceAccount }],
    currentContext: serviceAccount,
  });
  const kubeconfig = join(root, 'kubeconfig.json');
  await writeFile(kubeconfig, podIdentity.exportConfig());
  const sidecar = await spawnSidecar(config, {
    dir: root,
    logLevel: 'info',
    stdout: { file: join(root, 'stdout.log') },
    env: { POD_NAME: podName, POD_NAMESPACE: namespace, KUBECONFIG: kubeconfig },
  });
  return {
    url: sidecar.url,
    adminUrl: sidecar.adminUrl,
    podName,
    output: sidecar.stdout,
    syncVolumes,
    async close() {
      await sidecar.close();
      await rm(root, { recursive: true, force: true });
    },
  };
}
