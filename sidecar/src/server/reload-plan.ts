import type { EffectiveConfig } from '../config/load.ts';

// What a new configuration changes in a running sidecar, decided from the two configurations alone:
// which parts are rebuilt, which are kept (an unchanged upstream keeps its connection pool, unchanged
// upstream.auth its cached tokens), and what takes effect only at the next restart.

export interface ReloadPlan {
  /** A new upstream client (its URL, timeouts, TLS or circuit breaker changed). */
  readonly newUpstream: boolean;
  /** A new credential source (upstream.auth changed). */
  readonly newCredentials: boolean;
  /** Pinning, already running, takes the new pinning section. */
  readonly reconfigurePinning: boolean;
  /** What the log says takes effect only at the next restart. */
  readonly atNextRestart: readonly string[];
}

export interface RunningParts {
  /** The upstream is the sidecar's own stdio bridge, fixed at start. */
  readonly stdioBridge: boolean;
  readonly pinning: boolean;
}

const same = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);

function stdioOf(c: EffectiveConfig): string {
  const { command, args, env, processes } = c.upstream;
  return JSON.stringify({ command, args, env, processes });
}

export function planReload(old: EffectiveConfig, next: EffectiveConfig, running: RunningParts): ReloadPlan {
  const atNextRestart: string[] = [];
  if (
    next.listen.port !== old.listen.port ||
    next.listen.path !== old.listen.path ||
    next.upstream.transport !== old.upstream.transport ||
    stdioOf(next) !== stdioOf(old)
  )
    atNextRestart.push(
      'listen, upstream.transport and the stdio command and processes take effect at the next restart',
    );
  const pinningOn = next.pinning !== undefined && next.pinning.mode !== 'Off';
  if (!running.pinning && pinningOn)
    atNextRestart.push('pinning switched on takes effect at the next restart');
  const sameUpstream =
    running.stdioBridge ||
    (next.upstream.url === old.upstream.url &&
      next.upstream.connectTimeoutMs === old.upstream.connectTimeoutMs &&
      next.upstream.requestTimeoutMs === old.upstream.requestTimeoutMs &&
      same(next.upstream.tls, old.upstream.tls) &&
      same(next.upstream.circuitBreaker, old.upstream.circuitBreaker));
  return {
    newUpstream: !sameUpstream,
    newCredentials: !same(next.upstream.auth, old.upstream.auth),
    reconfigurePinning: running.pinning,
    atNextRestart,
  };
}
