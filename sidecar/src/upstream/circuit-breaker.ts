// A consecutive-failure circuit breaker: after `failures` failures in a row every call fails at
// once for `cooldownMs`, then one trial call is let through; its success closes the circuit.
// Hand-written (about 40 lines) because the project's install has no resilience library and this
// is all the token endpoints and the upstream client need. The clock is passed in.

export type BreakerState = 'closed' | 'open' | 'half-open';

export interface CircuitBreaker {
  /** False while open: fail the call at once. In half-open, admits one trial call. */
  tryAcquire(): boolean;
  success(): void;
  failure(): void;
  /** The call ended without telling anything about the other side (the caller gave up). */
  cancel(): void;
  state(): BreakerState;
}

export function circuitBreaker(
  failures: number,
  cooldownMs: number,
  now: () => number = Date.now,
): CircuitBreaker {
  let consecutive = 0;
  let openedAt: number | undefined;
  let trialInFlight = false;
  const state = (): BreakerState => {
    if (openedAt === undefined) return 'closed';
    return now() - openedAt >= cooldownMs ? 'half-open' : 'open';
  };
  return {
    tryAcquire() {
      const s = state();
      if (s === 'closed') return true;
      if (s === 'open' || trialInFlight) return false;
      trialInFlight = true;
      return true;
    },
    success() {
      consecutive = 0;
      openedAt = undefined;
      trialInFlight = false;
    },
    failure() {
      consecutive += 1;
      trialInFlight = false;
      if (openedAt !== undefined || consecutive >= failures) openedAt = now();
    },
    cancel() {
      trialInFlight = false;
    },
    state,
  };
}
