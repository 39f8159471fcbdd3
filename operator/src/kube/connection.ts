import { readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { Agent, type Dispatcher } from 'undici';
import { parse as parseYaml } from 'yaml';
import { KubeError } from './errors.ts';

// How to reach the API server: its URL, one shared connection pool, and the credentials of each
// request. client-node's KubeConfig builds a new undici Agent (a new TLS connection pool) for every
// request and loads its whole generated API (~85 MiB) on import; the operator makes thousands of
// requests, so it reads the common cases itself: in-cluster ServiceAccount, and kubeconfig files
// with certificates, tokens or token files. Only a kubeconfig that needs an exec plugin or an
// auth-provider falls back to client-node, loaded on demand.

export interface Connection {
  readonly server: string;
  /** Pool for ordinary requests (bounded response times). */
  readonly dispatcher: Dispatcher;
  /** Pool for watches: long-lived streams, declared dead only after a long silence. */
  readonly watchDispatcher: Dispatcher;
  headers(): Promise<Record<string, string>>;
  close(): Promise<void>;
}

interface TlsAndAuth {
  server: string;
  ca?: string | Buffer;
  cert?: string | Buffer;
  key?: string | Buffer;
  insecure?: boolean;
  servername?: string;
  token?: () => string | undefined;
}

const SA_DIR = '/var/run/secrets/kubernetes.io/serviceaccount';
// Watches end by the server's timeoutSeconds (at most 10 min) and carry bookmarks about every
// minute; this much silence means the connection is dead.
const WATCH_SILENCE_MS = 5 * 60_000;

function connectionOf(t: TlsAndAuth): Connection {
  const connect = {
    ca: t.ca,
    cert: t.cert,
    key: t.key,
    rejectUnauthorized: !t.insecure,
    servername: t.servername,
  };
  const dispatcher = new Agent({ connect, headersTimeout: 30_000, bodyTimeout: 60_000, connections: 64 });
  const watchDispatcher = new Agent({ connect, headersTimeout: 30_000, bodyTimeout: WATCH_SILENCE_MS });
  return {
    server: t.server.replace(/\/$/, ''),
    dispatcher,
    watchDispatcher,
    headers: async (): Promise<Record<string, string>> => {
      const token = t.token?.();
      return token ? { authorization: `Bearer ${token}` } : {};
    },
    close: async () => {
      await Promise.all([dispatcher.close(), watchDispatcher.close()]);
    },
  };
}

/** A token file, re-read at most once a minute (projected tokens are rotated on disk). */
function tokenFile(path: string): () => string | undefined {
  let value: string | undefined;
  let readAt = 0;
  return () => {
    if (Date.now() - readAt > 60_000) {
      value = readFileSync(path, 'utf8').trim();
      readAt = Date.now();
    }
    return value;
  };
}

export function inClusterConnection(): Connection {
  const host = process.env.KUBERNETES_SERVICE_HOST;
  const port = process.env.KUBERNETES_SERVICE_PORT;
  if (!host || !port) {
    throw new KubeError(
      'UNEXPECTED',
      0,
      'no kubeconfig given and not running in a cluster (KUBERNETES_SERVICE_HOST unset)',
    );
  }
  const h = host.includes(':') ? `[${host}]` : host;
  return connectionOf({
    server: `https://${h}:${port}`,
    ca: readFileSync(join(SA_DIR, 'ca.crt')),
    token: tokenFile(join(SA_DIR, 'token')),
  });
}

interface Named<T> {
  name: string;
  [key: string]: unknown;
  cluster?: T;
  user?: T;
  context?: T;
}

type Fields = Record<string, unknown>;

function dataOrFile(entry: Fields, key: string, base: string): Buffer | undefined {
  const data = entry[`${key}-data`];
  if (typeof data === 'string') return Buffer.from(data, 'base64');
  const file = entry[key];
  if (typeof file === 'string') return readFileSync(file.startsWith('/') ? file : join(base, file));
  return undefined;
}

/** The current context of a kubeconfig file, or undefined when it needs client-node's plugins. */
export function parseKubeconfig(text: string, base: string): TlsAndAuth | 'needs-plugins' {
  const doc = parseYaml(text) as {
    'current-context'?: string;
    contexts?: Named<Fields>[];
    clusters?: Named<Fields>[];
    users?: Named<Fields>[];
  };
  const ctx = doc.contexts?.find((c) => c.name === doc['current-context'])?.context;
  if (!ctx)
    throw new KubeError('UNEXPECTED', 0, `kubeconfig: current context '${doc['current-context']}' not found`);
  const cluster = doc.clusters?.find((c) => c.name === ctx.cluster)?.cluster;
  if (!cluster || typeof cluster.server !== 'string') {
    throw new KubeError('UNEXPECTED', 0, `kubeconfig: cluster '${String(ctx.cluster)}' not found`);
  }
  const user = doc.users?.find((u) => u.name === ctx.user)?.user ?? {};
  if (user.exec || user['auth-provider'] || user.username) return 'needs-plugins';
  const token = typeof user.token === 'string' ? user.token : undefined;
  const file = typeof user.tokenFile === 'string' ? user.tokenFile : undefined;
  return {
    server: cluster.server,
    ca: dataOrFile(cluster, 'certificate-authority', base),
    cert: dataOrFile(user, 'client-certificate', base),
    key: dataOrFile(user, 'client-key', base),
    insecure: cluster['insecure-skip-tls-verify'] === true,
    servername: typeof cluster['tls-server-name'] === 'string' ? cluster['tls-server-name'] : undefined,
    token: token ? () => token : file ? tokenFile(file) : undefined,
  };
}

/** Exec plugins and auth-providers: let client-node compute the credentials of each request. */
async function pluginConnection(path: string): Promise<Connection> {
  const { KubeConfig, RequestContext } = await import('@kubernetes/client-node');
  const kc = new KubeConfig();
  kc.loadFromFile(path);
  const cluster = kc.getCurrentCluster();
  if (!cluster) throw new KubeError('UNEXPECTED', 0, 'kubeconfig has no current cluster');
  const base = connectionOf({
    server: cluster.server,
    ca: cluster.caData
      ? Buffer.from(cluster.caData, 'base64')
      : cluster.caFile
        ? readFileSync(cluster.caFile)
        : undefined,
    insecure: cluster.skipTLSVerify,
  });
  return {
    ...base,
    headers: async () => {
      const ctx = new RequestContext(cluster.server, 'GET');
      await kc.applySecurityAuthentication(ctx);
      return ctx.getHeaders();
    },
  };
}

/** From a kubeconfig path, $KUBECONFIG, ~/.kube/config, or the pod's ServiceAccount, in that order. */
export async function loadConnection(path?: string): Promise<Connection> {
  const candidates = [path, process.env.KUBECONFIG?.split(':')[0], join(homedir(), '.kube', 'config')];
  for (const file of candidates) {
    if (!file) continue;
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (err) {
      if (file === path)
        throw new KubeError('UNEXPECTED', 0, `cannot read kubeconfig ${file}`, undefined, err);
      continue;
    }
    const parsed = parseKubeconfig(text, join(file, '..'));
    return parsed === 'needs-plugins' ? pluginConnection(file) : connectionOf(parsed);
  }
  return inClusterConnection();
}
