// Leader election on a coordination.k8s.io/v1 Lease, decided purely. Expiry is judged by when this
// replica last saw the lease record change (on its own clock), not by the holder's renewTime, so
// clock skew between replicas cannot make two leaders.

export interface LeaseSpec {
  holderIdentity?: string;
  leaseDurationSeconds?: number;
  acquireTime?: string;
  renewTime?: string;
  leaseTransitions?: number;
}

export type LeaseStep =
  | { action: 'create' | 'take' | 'renew'; spec: LeaseSpec }
  | { action: 'wait'; holder: string };

export interface Observation {
  /** The record last seen (holder + renewTime), and when we first saw it. */
  record: string;
  at: number;
}

export function recordOf(spec: LeaseSpec | undefined): string {
  return `${spec?.holderIdentity ?? ''}|${spec?.renewTime ?? ''}`;
}

/** MicroTime: RFC 3339 with microseconds. */
export function microTime(now: Date): string {
  return now.toISOString().replace(/\.(\d{3})Z$/, '.$1000Z');
}

export function nextLeaseStep(
  spec: LeaseSpec | undefined,
  exists: boolean,
  identity: string,
  durationSeconds: number,
  observed: Observation | undefined,
  now: Date,
): LeaseStep {
  const stamp = microTime(now);
  if (!exists) {
    return {
      action: 'create',
      spec: {
        holderIdentity: identity,
        leaseDurationSeconds: durationSeconds,
        acquireTime: stamp,
        renewTime: stamp,
        leaseTransitions: 0,
      },
    };
  }
  const holder = spec?.holderIdentity ?? '';
  if (holder === identity) {
    return { action: 'renew', spec: { ...spec, leaseDurationSeconds: durationSeconds, renewTime: stamp } };
  }
  const duration = (spec?.leaseDurationSeconds ?? durationSeconds) * 1000;
  const unchangedSince = observed && observed.record === recordOf(spec) ? observed.at : now.getTime();
  const expired = holder === '' || now.getTime() - unchangedSince >= duration;
  if (!expired) return { action: 'wait', holder };
  return {
    action: 'take',
    spec: {
      holderIdentity: identity,
      leaseDurationSeconds: durationSeconds,
      acquireTime: stamp,
      renewTime: stamp,
      leaseTransitions: (spec?.leaseTransitions ?? 0) + 1,
    },
  };
}
