import { randomBytes } from 'node:crypto';
import type { Logger } from 'pino';
import type { KubeClient } from './client.ts';
import type { KubeObject } from './object.ts';

// Kubernetes Events (events.k8s.io/v1) for what a person should see in `kubectl describe` or
// `kubectl events`. Best effort: a failed event is logged, never fails the reconcile. The same
// event about the same object is sent once per window, so a retry loop does not flood the API.

export type EventType = 'Normal' | 'Warning';

export interface EventRecorderOptions {
  client: KubeClient;
  log: Logger;
  /** Reporting instance: this replica's identity. */
  instance: string;
  now?: () => Date;
  windowMs?: number;
}

const CONTROLLER = 'portcullis.dev/operator';
const MAX_REMEMBERED = 10_000;

/** The event a recorder would send; pure, for tests. */
export function buildEvent(
  regarding: KubeObject,
  type: EventType,
  reason: string,
  action: string,
  note: string,
  instance: string,
  now: Date,
): KubeObject {
  const meta = regarding.metadata;
  return {
    apiVersion: 'events.k8s.io/v1',
    kind: 'Event',
    metadata: {
      name: `${meta.name}.${randomBytes(8).toString('hex')}`,
      namespace: meta.namespace ?? 'default',
    },
    // MicroTime: RFC 3339 with microseconds.
    eventTime: now.toISOString().replace(/\.(\d{3})Z$/, '.$1000Z'),
    reportingController: CONTROLLER,
    reportingInstance: instance,
    action,
    reason,
    type,
    note: note.slice(0, 1024),
    regarding: {
      apiVersion: regarding.apiVersion,
      kind: regarding.kind,
      name: meta.name,
      namespace: meta.namespace,
      uid: meta.uid,
      resourceVersion: meta.resourceVersion,
    },
  };
}

export class EventRecorder {
  readonly #o: EventRecorderOptions;
  readonly #now: () => Date;
  readonly #sent = new Map<string, number>();

  constructor(options: EventRecorderOptions) {
    this.#o = options;
    this.#now = options.now ?? (() => new Date());
  }

  record(regarding: KubeObject, type: EventType, reason: string, action: string, note: string): void {
    const now = this.#now();
    const key = `${regarding.metadata.uid}|${type}|${reason}|${note}`;
    const last = this.#sent.get(key);
    if (last !== undefined && now.getTime() - last < (this.#o.windowMs ?? 10 * 60_000)) return;
    if (this.#sent.size >= MAX_REMEMBERED) this.#sent.clear();
    this.#sent.set(key, now.getTime());
    const event = buildEvent(regarding, type, reason, action, note, this.#o.instance, now);
    this.#o.client.create(event).catch((err: unknown) => {
      this.#o.log.debug({ err, reason }, 'could not record event');
    });
  }
}
