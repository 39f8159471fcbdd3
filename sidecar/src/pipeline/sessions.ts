// Binds each MCP session id to the principal that opened it, so a session id seen by someone else
// (a log, a shared proxy) cannot be replayed under another identity. Bounded in size and idle time.
// Every change of the number of sessions (bind, remove, idle expiry, eviction) is reported through
// `onSizeChange`, which feeds the active-sessions gauge; a session dropped by idle expiry or
// eviction (not by remove) is reported through `onForget`, so what serves it can end too.

export type SessionCheck = 'owner' | 'unknown' | 'foreign';

export interface SessionBindingsOptions {
  readonly maxSessions?: number;
  readonly idleMs?: number;
  readonly now?: () => number;
  /** Called with the new count whenever it changes. */
  readonly onSizeChange?: (size: number) => void;
  /** Called with each session forgotten by idle expiry or eviction. */
  readonly onForget?: (sessionId: string) => void;
}

interface Binding {
  owner: string;
  lastSeen: number;
}

export class SessionBindings {
  readonly #byId = new Map<string, Binding>();
  readonly #max: number;
  readonly #idleMs: number;
  readonly #now: () => number;
  readonly #onSizeChange: ((size: number) => void) | undefined;
  readonly #onForget: ((sessionId: string) => void) | undefined;

  constructor(opts: SessionBindingsOptions = {}) {
    this.#max = opts.maxSessions ?? 100_000;
    this.#idleMs = opts.idleMs ?? 24 * 3600_000;
    this.#now = opts.now ?? Date.now;
    this.#onSizeChange = opts.onSizeChange;
    this.#onForget = opts.onForget;
  }

  /** How long a session may stay unused before it is forgotten. */
  get idleMs(): number {
    return this.#idleMs;
  }

  bind(sessionId: string, owner: string): void {
    const before = this.#byId.size;
    if (before >= this.#max && !this.#byId.has(sessionId)) this.#evict();
    this.#byId.set(sessionId, { owner, lastSeen: this.#now() });
    this.#changed(before);
  }

  check(sessionId: string, owner: string): SessionCheck {
    const b = this.#byId.get(sessionId);
    if (b === undefined) return 'unknown';
    const now = this.#now();
    if (now - b.lastSeen > this.#idleMs) {
      this.#forget(sessionId);
      this.#changed(this.#byId.size + 1);
      return 'unknown';
    }
    if (b.owner !== owner) return 'foreign';
    b.lastSeen = now;
    return 'owner';
  }

  remove(sessionId: string): void {
    if (this.#byId.delete(sessionId)) this.#changed(this.#byId.size + 1);
  }

  /** Forgets sessions idle for longer than idleMs; run periodically so the count does not go stale. */
  sweep(): void {
    const before = this.#byId.size;
    this.#dropIdle(this.#now());
    this.#changed(before);
  }

  get size(): number {
    return this.#byId.size;
  }

  /** Drops idle sessions, then the oldest tenth if still full (Map keeps insertion order). */
  #evict(): void {
    this.#dropIdle(this.#now());
    if (this.#byId.size < this.#max) return;
    let drop = Math.max(1, Math.floor(this.#max / 10));
    for (const id of this.#byId.keys()) {
      if (drop-- <= 0) break;
      this.#forget(id);
    }
  }

  #dropIdle(now: number): void {
    for (const [id, b] of this.#byId) if (now - b.lastSeen > this.#idleMs) this.#forget(id);
  }

  #forget(id: string): void {
    this.#byId.delete(id);
    this.#onForget?.(id);
  }

  #changed(before: number): void {
    if (this.#byId.size !== before) this.#onSizeChange?.(this.#byId.size);
  }
}
