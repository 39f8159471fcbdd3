import type { Logger } from 'pino';
import type { KubeClient } from '../kube/client.ts';
import { isKubeError } from '../kube/errors.ts';
import type { KubeObject } from '../kube/object.ts';
import { Resources } from '../kube/resources.ts';
import { type LeaseSpec, microTime, nextLeaseStep, type Observation, recordOf } from './lease-decision.ts';

// The I/O around nextLeaseStep: read the Lease, write it with its resourceVersion as precondition
// (two candidates cannot both win), renew every retry period, give up leadership when renewals
// fail for renewDeadline, and hand the lease over on shutdown so the next replica starts at once.

export interface ElectorOptions {
  client: KubeClient;
  namespace: string;
  name: string;
  identity: string;
  log: Logger;
  leaseDurationSeconds?: number;
  renewDeadlineMs?: number;
  retryPeriodMs?: number;
  now?: () => Date;
  onStartedLeading: () => void;
  onStoppedLeading: () => void;
}

type Lease = KubeObject & { spec?: LeaseSpec };

export class LeaderElector {
  readonly #o: ElectorOptions;
  readonly #now: () => Date;
  #observed: Observation | undefined;
  #leading = false;
  #lastRenew = 0;
  #stopped = false;
  #wake: (() => void) | undefined;
  #loop: Promise<void> | undefined;

  constructor(options: ElectorOptions) {
    this.#o = options;
    this.#now = options.now ?? (() => new Date());
  }

  get leading(): boolean {
    return this.#leading;
  }

  start(): void {
    this.#loop ??= this.#run();
  }

  /** Stops campaigning; a leader releases the lease so another replica can take over at once. */
  async stop(): Promise<void> {
    this.#stopped = true;
    this.#wake?.();
    await this.#loop;
    if (this.#leading) {
      this.#leading = false;
      await this.#release();
    }
  }

  async #run(): Promise<void> {
    const retry = this.#o.retryPeriodMs ?? 2_000;
    const deadline = this.#o.renewDeadlineMs ?? 10_000;
    while (!this.#stopped) {
      try {
        await this.#tryAcquireOrRenew();
      } catch (err) {
        this.#o.log.info({ err, lease: this.#o.name }, 'lease update failed');
      }
      if (this.#leading && this.#now().getTime() - this.#lastRenew > deadline) {
        this.#o.log.error({ lease: this.#o.name }, 'could not renew the leader lease in time; stepping down');
        this.#leading = false;
        this.#o.onStoppedLeading();
      }
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, retry);
        this.#wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
    }
  }

  async #tryAcquireOrRenew(): Promise<void> {
    const { client, namespace, name, identity } = this.#o;
    const lease = await client.get<Lease>(Resources.Lease, namespace, name);
    const now = this.#now();
    if (lease && this.#observed?.record !== recordOf(lease.spec)) {
      this.#observed = { record: recordOf(lease.spec), at: now.getTime() };
    }
    const step = nextLeaseStep(
      lease?.spec,
      lease !== undefined,
      identity,
      this.#o.leaseDurationSeconds ?? 15,
      this.#observed,
      now,
    );
    if (step.action === 'wait') {
      if (this.#leading) {
        // Someone else holds it (we lost a race or were too slow): step down now.
        this.#leading = false;
        this.#o.onStoppedLeading();
      }
      return;
    }
    const manifest: Lease = {
      apiVersion: 'coordination.k8s.io/v1',
      kind: 'Lease',
      metadata: lease ? { ...lease.metadata } : { name, namespace },
      spec: step.spec,
    };
    try {
      const written =
        step.action === 'create'
          ? await client.create<Lease>(manifest)
          : await client.update<Lease>(manifest);
      this.#observed = { record: recordOf(written.spec), at: now.getTime() };
    } catch (err) {
      if (isKubeError(err, 'CONFLICT')) return; // another candidate wrote first; look again next round
      throw err;
    }
    this.#lastRenew = now.getTime();
    if (!this.#leading) {
      this.#leading = true;
      this.#o.log.info({ lease: `${namespace}/${name}`, identity, action: step.action }, 'became leader');
      this.#o.onStartedLeading();
    }
  }

  async #release(): Promise<void> {
    const { client, namespace, name, identity } = this.#o;
    try {
      const lease = await client.get<Lease>(Resources.Lease, namespace, name);
      if (!lease || lease.spec?.holderIdentity !== identity) return;
      await client.update({
        ...lease,
        spec: {
          ...lease.spec,
          holderIdentity: '',
          leaseDurationSeconds: 1,
          renewTime: microTime(this.#now()),
        },
      });
      this.#o.log.info({ lease: `${namespace}/${name}` }, 'released the leader lease');
    } catch (err) {
      this.#o.log.warn({ err }, 'could not release the leader lease; the next leader waits for it to expire');
    }
  }
}
