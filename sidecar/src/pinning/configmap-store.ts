import { CoreV1Api, KubeConfig, type V1ConfigMap } from '@kubernetes/client-node';
import type { PinStore, TrustedPin } from './book.ts';

// Pins trusted on first use, kept in a ConfigMap of the server's namespace, so that every pod of the
// server, and every pod after it, judges against the same pins: a new pod never trusts anew. The
// sidecar needs only get and update on that one ConfigMap (RBAC by resourceNames). Each pin is one
// data key (`trusted.<base64url of the pin key>`, as ConfigMap keys allow only [-._a-zA-Z0-9]);
// updates carry the resourceVersion read, so two replicas never overwrite each other's pins, and a
// pin another replica already stored with a different digest is never replaced.

const PREFIX = 'trusted.';
const keyOf = (pinKey: string) => `${PREFIX}${Buffer.from(pinKey).toString('base64url')}`;

export interface ConfigMapStoreOptions {
  readonly namespace: string;
  readonly name: string;
  /** Default: in-cluster credentials (the pod's ServiceAccount), else $KUBECONFIG. */
  readonly kubeConfig?: KubeConfig;
}

export function configMapPinStore(opts: ConfigMapStoreOptions): PinStore {
  const kc = opts.kubeConfig ?? defaultKubeConfig();
  const api = kc.makeApiClient(CoreV1Api);
  const where = `ConfigMap ${opts.namespace}/${opts.name}`;
  const read = async (): Promise<V1ConfigMap> => {
    try {
      return await api.readNamespacedConfigMap({ name: opts.name, namespace: opts.namespace });
    } catch (err) {
      // Without its pins the sidecar would trust anew: it does not start (fails closed).
      throw new Error(`pinning trust store ${where} cannot be read: ${(err as Error).message}`);
    }
  };
  return {
    async load() {
      const pins = new Map<string, TrustedPin>();
      for (const [k, v] of Object.entries((await read()).data ?? {})) {
        if (!k.startsWith(PREFIX)) continue;
        pins.set(Buffer.from(k.slice(PREFIX.length), 'base64url').toString(), JSON.parse(v) as TrustedPin);
      }
      return pins;
    },
    async save(pinKey, pin) {
      for (let attempt = 0; attempt < 5; attempt++) {
        const cm = await read();
        const existing = cm.data?.[keyOf(pinKey)];
        if (existing !== undefined) {
          if ((JSON.parse(existing) as TrustedPin).digest === pin.digest) return;
          throw new Error(`${where}: another replica trusted a different definition of ${pinKey}`);
        }
        cm.data = { ...cm.data, [keyOf(pinKey)]: JSON.stringify(pin) };
        try {
          await api.replaceNamespacedConfigMap({ name: opts.name, namespace: opts.namespace, body: cm });
          return;
        } catch (err) {
          if ((err as { code?: number }).code !== 409) throw err; // 409: changed since read; read again
        }
      }
      throw new Error(`${where}: pin of ${pinKey} not stored after 5 conflicting updates`);
    },
  };
}

function defaultKubeConfig(): KubeConfig {
  const kc = new KubeConfig();
  kc.loadFromDefault();
  return kc;
}
