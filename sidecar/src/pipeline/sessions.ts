// Binds each MCP session id to the principal that opened it, so a session id seen by someone else
// (a log, a shared proxy) cannot be replayed under another identity. Bounded in size and idle time.

export type SessionCheck = 'owner' | 'unknown' | 'foreign';

export interface SessionBindingsOptions {
  readonly maxSessions?: number;
  readonly idleMs?: number;
  readonly now?: () => number;
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

  constructor(opts: SessionBindingsOptions = {}) {
    this.#max = opts.maxSessions ?? 100_000;
    this.#idleMs = opts.idleMs ?? 24 * 3600_000;
    this.#now = opts.now ?? Date.now;
  }

  bind(sessionId: string, owner: string): void {
    if (this.#byId.size >= this.#max) this.#evict();
    this.#byId.set(sessionId, { owner, lastSeen: this.#now() });
  }

  check(sessionId: string, owner: string): SessionCheck {
    const b = this.#byId.get(sessionId);
    if (b === undefined) return 'unknown';
    const now = this.#now();
    if (now - b.lastSeen > this.#idleMs) {
      this.#byId.delete(sessionId);
      return 'unknown';
    }
    if (b.owner !== owner) return 'foreign';
    b.lastSeen = now;
    return 'owner';
  }

  remove(sessionId: string): void {
    this.#byId.delete(sessionId);
  }

  get size(): number {
    return this.#byId.size;
  }

  /** Drops idle sessions, then the oldest tenth if still full (Map keeps insertion order). */
  #evict(): void {
    const now = this.#now();
    for (const [id, b] of this.#byId) if (now - b.lastSeen > this.#idleMs) this.#byId.delete(id);
    if (this.#byId.size < this.#max) return;
    let drop = Math.max(1, Math.floor(this.#max / 10));
    for (const id of this.#byId.keys()) {
      if (drop-- <= 0) break;
      this.#byId.delete(id);
    }
  }
}
