import { decidePin, HOLD_MESSAGES, type HoldReason, type PinningMode } from './decide.ts';
import {
  type Definition,
  type DefinitionKind,
  definitionOf,
  instructionsOf,
  LIST_FIELDS,
  pinKey,
} from './definitions.ts';
import { type DefinitionChange, diffDefinitions } from './diff.ts';
import { findSuspiciousText, type SuspiciousText } from './suspicious.ts';

// The sidecar's pins for one server: what a person approved, what was trusted on first use (kept by
// a PinStore outside the pod, so a new pod does not trust anew), and what was observed. Every
// definition the server shows, to the sidecar's own session or in a reply to a caller, is judged
// here, and replies keep only what passes.

/** A definition trusted on first use, kept with its body so a later change can be shown as a diff. */
export interface TrustedPin {
  readonly digest: string;
  readonly body: Readonly<Record<string, unknown>>;
  readonly at: string;
}

/** Where trusted-on-first-use pins survive restarts: a file, a ConfigMap, or memory in tests. */
export interface PinStore {
  load(): Promise<ReadonlyMap<string, TrustedPin>>;
  /** Records one pin; a failure is reported (onStoreError) and the pin stays trusted in this process only. */
  save(key: string, pin: TrustedPin): Promise<void>;
}

export interface Observation {
  readonly kind: DefinitionKind;
  readonly name: string;
  digest: string;
  firstSeen: string;
  lastSeen: string;
  state: 'pinned' | 'held' | 'observed';
  reason?: HoldReason;
  /** The digest it was pinned at, when held for a change. */
  pinned?: string;
  changes?: DefinitionChange[];
  suspicious?: SuspiciousText[];
}

/** What a held definition's caller and audit are told. */
export interface Hold {
  readonly key: string;
  readonly reason: HoldReason;
  readonly message: string;
  readonly pinned: string | undefined;
  readonly observed: string;
}

export interface DriftEvent {
  readonly observation: Observation;
  /** 'held' for a hold that blocks; 'observed' for drift in Observe mode. */
  readonly effect: 'held' | 'observed';
}

export interface PinBookOptions {
  readonly mode: PinningMode;
  /** Approved digests by pin key (`tool/search`). */
  readonly approved: ReadonlyMap<string, string>;
  readonly store: PinStore;
  readonly now?: () => Date;
  /** Called once per new hold (or Observe-mode drift) of a digest. */
  readonly onDrift?: (event: DriftEvent) => void;
  readonly onStoreError?: (err: Error) => void;
}

const CACHE_LIMIT = 4096;

export class PinBook {
  mode: PinningMode;
  private approved: ReadonlyMap<string, string>;
  private readonly store: PinStore;
  private readonly now: () => Date;
  private readonly opts: PinBookOptions;
  private trusted = new Map<string, TrustedPin>();
  private readonly observations = new Map<string, Observation>();
  /** The last definition of each key that passed as pinned: what a held change is diffed against. */
  private readonly lastPassed = new Map<
    string,
    { digest: string; body: Readonly<Record<string, unknown>> }
  >();
  /** Digest and suspicion by the item's JSON text: a list shown again costs a lookup, not a hash. */
  private readonly seen = new Map<string, { def: Definition; suspicious: SuspiciousText[] }>();

  constructor(opts: PinBookOptions) {
    this.opts = opts;
    this.mode = opts.mode;
    this.approved = opts.approved;
    this.store = opts.store;
    this.now = opts.now ?? (() => new Date());
  }

  async load(): Promise<void> {
    this.trusted = new Map(await this.store.load());
  }

  /** New approvals or mode (a configuration reload); takes effect at the next sight of each definition. */
  reconfigure(mode: PinningMode, approved: ReadonlyMap<string, string>): void {
    this.mode = mode;
    this.approved = approved;
  }

  list(): readonly Observation[] {
    return [...this.observations.values()];
  }

  /** Judges one definition; returns the hold when it may not be shown or called. */
  judge(def: Definition, suspicious = findSuspiciousText(def.body)): Hold | undefined {
    const key = pinKey(def.kind, def.name);
    const trusted = this.trusted.get(key);
    const verdict = decidePin({
      mode: this.mode,
      approved: this.approved.get(key),
      trusted: trusted?.digest,
      observed: def.digest,
      suspicious: suspicious.length > 0,
    });
    const at = this.now().toISOString();
    let obs = this.observations.get(key);
    const fresh = obs === undefined || obs.digest !== def.digest;
    if (obs === undefined) {
      obs = {
        kind: def.kind,
        name: def.name,
        digest: def.digest,
        firstSeen: at,
        lastSeen: at,
        state: 'observed',
      };
      this.observations.set(key, obs);
    } else if (obs.digest !== def.digest) {
      obs.digest = def.digest;
      obs.firstSeen = at;
    }
    obs.lastSeen = at;
    if (suspicious.length > 0) obs.suspicious = suspicious;
    else delete obs.suspicious;
    if (verdict.verdict === 'pass') {
      if (verdict.trust === true && this.mode === 'TrustOnFirstUse') {
        const pin: TrustedPin = { digest: def.digest, body: def.body, at };
        this.trusted.set(key, pin);
        // A pin the store refused stays trusted in this process (forgetting it would retry the store
        // on every list reply); the error is reported, as a later pod will not know the pin.
        this.store.save(key, pin).catch((err: Error) => this.opts.onStoreError?.(err));
      }
      if (verdict.drift === undefined) this.lastPassed.set(key, { digest: def.digest, body: def.body });
      if (verdict.drift !== undefined) {
        this.mark(obs, verdict.drift, trusted, def, fresh);
        if (fresh) this.opts.onDrift?.({ observation: obs, effect: 'observed' });
        obs.state = 'observed';
      } else {
        obs.state = 'pinned';
        delete obs.reason;
        delete obs.pinned;
        delete obs.changes;
      }
      return undefined;
    }
    const newly = fresh || obs.state !== 'held' || obs.reason !== verdict.reason;
    this.mark(obs, verdict.reason, trusted, def, fresh);
    obs.state = 'held';
    if (newly) this.opts.onDrift?.({ observation: obs, effect: 'held' });
    return {
      key,
      reason: verdict.reason,
      message: HOLD_MESSAGES[verdict.reason],
      pinned: verdict.pinned,
      observed: def.digest,
    };
  }

  private mark(
    obs: Observation,
    reason: HoldReason,
    trusted: TrustedPin | undefined,
    def: Definition,
    fresh: boolean,
  ): void {
    obs.reason = reason;
    const pinned = this.approved.get(pinKey(def.kind, def.name)) ?? trusted?.digest;
    if (pinned !== undefined) obs.pinned = pinned;
    if (fresh || obs.changes === undefined) {
      const last = this.lastPassed.get(pinKey(def.kind, def.name));
      const before = trusted?.body ?? (last !== undefined && last.digest === pinned ? last.body : {});
      obs.changes = diffDefinitions(before, def.body);
    }
  }

  /** The hold on a call to `name`, from what was last observed; Enforce also refuses the unseen. */
  holdOfCall(kind: DefinitionKind, name: string): Hold | undefined {
    if (this.mode === 'Off' || this.mode === 'Observe') return undefined;
    const key = pinKey(kind, name);
    const obs = this.observations.get(key);
    if (obs === undefined) {
      const approved = this.approved.get(key);
      if (this.mode !== 'Enforce' || approved !== undefined) return undefined;
      return {
        key,
        reason: 'unapproved',
        message: HOLD_MESSAGES.unapproved,
        pinned: undefined,
        observed: '',
      };
    }
    if (obs.state !== 'held' || obs.reason === undefined) return undefined;
    return {
      key,
      reason: obs.reason,
      message: HOLD_MESSAGES[obs.reason],
      pinned: obs.pinned,
      observed: obs.digest,
    };
  }

  /** A list result with only the definitions that pass; the same object when nothing was held. */
  filterList(method: string, result: unknown): unknown {
    const spec = LIST_FIELDS[method];
    if (spec === undefined || this.mode === 'Off' || typeof result !== 'object' || result === null)
      return result;
    const items = (result as Record<string, unknown>)[spec.field];
    if (!Array.isArray(items)) return result;
    let kept: unknown[] | undefined;
    for (let i = 0; i < items.length; i++) {
      const judged = this.judgeItem(spec.kind, items[i]);
      if (judged) kept?.push(items[i]);
      else kept ??= items.slice(0, i);
    }
    return kept === undefined ? result : { ...(result as Record<string, unknown>), [spec.field]: kept };
  }

  /** An initialize result without held `instructions`. */
  filterInitialize(result: unknown): unknown {
    if (this.mode === 'Off') return result;
    const def = instructionsOf(result);
    if (def === undefined || this.judge(def) === undefined) return result;
    const { instructions: _held, ...rest } = result as Record<string, unknown>;
    return rest;
  }

  private judgeItem(kind: DefinitionKind, item: unknown): boolean {
    const text = JSON.stringify(item);
    let entry = this.seen.get(text);
    if (entry === undefined) {
      const def = definitionOf(kind, item);
      if (def === undefined) return false; // no usable name: nothing to pin it under
      entry = { def, suspicious: findSuspiciousText(def.body) };
      if (this.seen.size >= CACHE_LIMIT) this.seen.clear();
      this.seen.set(text, entry);
    }
    return this.judge(entry.def, entry.suspicious) === undefined;
  }
}

/** A PinStore that forgets on restart: tests, and `Observe`/`Enforce` where nothing is trusted. */
export function memoryPinStore(initial: ReadonlyMap<string, TrustedPin> = new Map()): PinStore {
  const pins = new Map(initial);
  return {
    load: async () => new Map(pins),
    save: async (key, pin) => {
      pins.set(key, pin);
    },
  };
}
