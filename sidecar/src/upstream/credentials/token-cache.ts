// Tokens kept until shortly before they expire, bounded in entries (least recently used goes
// first), with concurrent misses for one key sharing one request. The clock is passed in.

export interface CachedToken {
  readonly token: string;
  /** Epoch ms after which the token is no longer used. */
  readonly refreshAt: number;
}

export interface TokenCache {
  /** The cached token, or the result of `fetch` (shared by concurrent callers of the same key). */
  get(key: string, fetch: () => Promise<CachedToken>): Promise<{ token: string; hit: boolean }>;
  readonly size: number;
}

export function tokenCache(maxEntries: number, now: () => number = Date.now): TokenCache {
  const entries = new Map<string, CachedToken>();
  const pending = new Map<string, Promise<CachedToken>>();
  return {
    async get(key, fetch) {
      const cached = entries.get(key);
      if (cached !== undefined) {
        entries.delete(key);
        if (cached.refreshAt > now()) {
          entries.set(key, cached);
          return { token: cached.token, hit: true };
        }
      }
      let p = pending.get(key);
      if (p === undefined) {
        p = fetch().finally(() => pending.delete(key));
        pending.set(key, p);
      }
      const fresh = await p;
      if (fresh.refreshAt > now()) {
        entries.set(key, fresh);
        if (entries.size > maxEntries) entries.delete(entries.keys().next().value as string);
      }
      return { token: fresh.token, hit: false };
    },
    get size() {
      return entries.size;
    },
  };
}
