import { createHash } from 'node:crypto';
import type { Principal } from '../contract/principal.ts';

// Verified tokens, remembered briefly so a client that sends the same bearer on every MCP message
// pays for one signature check, not one per message. Keyed by a SHA-256 of the whole token (never a
// part of it: a tampered token must miss), bounded in size (oldest evicted first), and each entry
// expires at the token's own exp or after maxAgeMs, whichever is first. Only successes are stored,
// so garbage tokens cannot fill it; it is emptied whenever an issuer's keys are refetched, so a
// retired key stops working as soon as the new key set is loaded.

export interface TokenCache {
  get(token: string): Principal | undefined;
  set(token: string, principal: Principal, expSeconds: number | undefined): void;
  clear(): void;
  readonly size: number;
}

export interface TokenCacheOptions {
  maxEntries: number;
  maxAgeMs: number;
  now: () => Date;
}

interface Entry {
  principal: Principal;
  expiresAt: number;
}

export function createTokenCache(options: TokenCacheOptions): TokenCache {
  const entries = new Map<string, Entry>();
  const keyOf = (token: string) => createHash('sha256').update(token).digest('base64url');
  return {
    get(token) {
      if (options.maxEntries === 0) return undefined;
      const key = keyOf(token);
      const entry = entries.get(key);
      if (entry === undefined) return undefined;
      if (options.now().getTime() >= entry.expiresAt) {
        entries.delete(key);
        return undefined;
      }
      return entry.principal;
    },
    set(token, principal, expSeconds) {
      if (options.maxEntries === 0) return;
      const now = options.now().getTime();
      const expiresAt = Math.min(now + options.maxAgeMs, expSeconds === undefined ? now : expSeconds * 1000);
      if (expiresAt <= now) return;
      if (entries.size >= options.maxEntries) {
        const oldest = entries.keys().next();
        if (!oldest.done) entries.delete(oldest.value);
      }
      entries.set(keyOf(token), { principal, expiresAt });
    },
    clear: () => entries.clear(),
    get size() {
      return entries.size;
    },
  };
}
