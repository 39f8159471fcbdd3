import { hostname } from 'node:os';
import {
  CoreV1Api,
  KubeConfig,
  PatchStrategy,
  setHeaderOptions,
  type V1ConfigMap,
} from '@kubernetes/client-node';
import { type PinReport, REPORT_PREFIX, readReports } from '../contract/pin-report.ts';
import type { PinStore, TrustedPin } from './book.ts';

// Pins trusted on first use, kept in a ConfigMap of the server's namespace, so that every pod of the
// server, and every pod after it, judges against the same pins: a new pod never trusts anew. The
// sidecar needs only get and patch on that one ConfigMap (RBAC by resourceNames; the operator
// creates it and the Role). Each pin is one data key (`trusted.<base64url of the pin key>`, as
// ConfigMap keys allow only [-._a-zA-Z0-9]); a pin's merge patch carries the resourceVersion read,
// so two replicas never overwrite each other's pins, and a pin another replica already stored with a
// different digest is never replaced. The same ConfigMap carries each pod's observation report
// (contract/pin-report.ts) under a key of its own.

const PREFIX = 'trusted.';
const keyOf = (pinKey: string) => `${PREFIX}${Buffer.from(pinKey).toString('base64url')}`;

export interface ConfigMapStoreOptions {
  readonly namespace: string;
  readonly name: string;
  /** Default: $KUBECONFIG, else in-cluster credentials (the token projected into the sidecar). */
  readonly kubeConfig?: KubeConfig;
  /** This pod's name: the key of its report. Default: the host name (a pod's name). */
  readonly pod?: string;
  readonly now?: () => Date;
}

const MERGE_PATCH = setHeaderOptions('Content-Type', PatchStrategy.MergePatch);

export interface ConfigMapPinStore extends PinStore {
  report(report: PinReport): Promise<void>;
}

export function configMapPinStore(opts: ConfigMapStoreOptions): ConfigMapPinStore {
  const kc = opts.kubeConfig ?? defaultKubeConfig();
  const api = kc.makeApiClient(CoreV1Api);
  const where = `ConfigMap ${opts.namespace}/${opts.name}`;
  const pod = opts.pod ?? hostname();
  const now = opts.now ?? (() => new Date());
  const patch = (body: unknown) =>
    api.patchNamespacedConfigMap({ name: opts.name, namespace: opts.namespace, body }, MERGE_PATCH);
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
        const body = {
          metadata: { resourceVersion: cm.metadata?.resourceVersion },
          data: { [keyOf(pinKey)]: JSON.stringify(pin) },
        };
        try {
          await patch(body);
          return;
        } catch (err) {
          if ((err as { code?: number }).code !== 409) throw err; // 409: changed since read; read again
        }
      }
      throw new Error(`${where}: pin of ${pinKey} not stored after 5 conflicting updates`);
    },
    async report(report) {
      // Reports of pods gone for long are removed by whoever writes next, so keys do not pile up
      // over rollouts; a live pod's report is never that old (REPORT_HEARTBEAT_MS).
      const data = (await read()).data ?? {};
      const live = readReports(data, now());
      const stale = Object.keys(data).filter(
        (k) => k.startsWith(REPORT_PREFIX) && !live.has(k.slice(REPORT_PREFIX.length)),
      );
      await patch({
        data: {
          ...Object.fromEntries(stale.map((k) => [k, null])),
          [`${REPORT_PREFIX}${pod}`]: JSON.stringify(report),
        },
      });
    },
  };
}

function defaultKubeConfig(): KubeConfig {
  const kc = new KubeConfig();
  kc.loadFromDefault();
  return kc;
}
