import { compileGlobs, type NameMatcher } from '../contract/glob.ts';
import type { RateLimit } from '../contract/rate-limits.ts';
import { TokenBuckets } from './buckets.ts';

// The configured rate limits, compiled: which limits cover a tool, the key of a call's bucket in
// each, and the decision for one call. A call passes only when every limit covering it has a token,
// and then takes one from each: a refused call costs no limit anything. Buckets are kept across
// configuration reloads for limits whose definition did not change (state below).

export interface RateLimited {
  /** The limit that refused the call (the one with the longest wait). */
  readonly limit: string;
  readonly retryAfterMs: number;
}

interface CompiledLimit {
  readonly name: string;
  readonly covers: NameMatcher;
  readonly keyOf: (principalKey: string, tool: string) => string;
  readonly buckets: TokenBuckets;
}

export interface RateLimiter {
  /** Undefined: the call may go (and has taken its tokens). */
  admit(principalKey: string, tool: string, now: number): RateLimited | undefined;
  readonly names: readonly string[];
}

/** Buckets by limit definition, shared across reloads (owned by the running sidecar). */
export type RateLimitState = Map<string, TokenBuckets>;

const KEYS: Record<RateLimit['per'], CompiledLimit['keyOf']> = {
  principal: (p) => p,
  'principal-tool': (p, t) => `${p}\u0000${t}`,
  tool: (_, t) => t,
  server: () => '',
};

export function createRateLimiter(
  limits: readonly RateLimit[],
  state: RateLimitState,
): RateLimiter | undefined {
  if (limits.length === 0) {
    state.clear();
    return undefined;
  }
  const used = new Set<string>();
  const compiled: CompiledLimit[] = limits.map((l) => {
    const id = JSON.stringify([l.name, l.per, l.tools ?? ['*'], l.requestsPerSecond, l.burst]);
    used.add(id);
    let buckets = state.get(id);
    if (buckets === undefined) {
      buckets = new TokenBuckets({ ratePerSecond: l.requestsPerSecond, burst: l.burst });
      state.set(id, buckets);
    }
    return { name: l.name, covers: compileGlobs(l.tools ?? ['*']), keyOf: KEYS[l.per], buckets };
  });
  for (const id of [...state.keys()]) if (!used.has(id)) state.delete(id);
  return {
    names: compiled.map((l) => l.name),
    admit(principalKey, tool, now) {
      let refused: RateLimited | undefined;
      for (const l of compiled) {
        if (!l.covers(tool)) continue;
        const wait = l.buckets.waitMs(l.keyOf(principalKey, tool), now);
        if (wait > 0 && (refused === undefined || wait > refused.retryAfterMs))
          refused = { limit: l.name, retryAfterMs: wait };
      }
      if (refused !== undefined) return refused;
      for (const l of compiled) if (l.covers(tool)) l.buckets.take(l.keyOf(principalKey, tool), now);
      return undefined;
    },
  };
}
