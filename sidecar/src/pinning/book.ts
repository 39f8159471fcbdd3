import { UriTemplate } from '@modelcontextprotocol/sdk/shared/uriTemplate.js';
import type { PinReport } from '../contract/pin-report.ts';
import { DEFAULT_MAX_DEFINITIONS } from '../contract/pinning.ts';
import { decidePin, HOLD_MESSAGES, type HoldReason, type PinningMode, type PinReason } from './decide.ts';
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
  /** Publishes what this sidecar observes (contract/pin-report.ts), where the store has a place for it. */
  report?(report: PinReport): Promise<void>;
}

export interface Observation {
  readonly kind: DefinitionKind;
  readonly name: string;
  digest: string;
  firstSeen: string;
  lastSeen: string;
  state: 'pinned' | 'held' | 'observed';
  reason?: PinReason;
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
  /** Past maxDefinitions, a name that is not remembered: its one event says so (reason 'limit'). */
  readonly observation: Observation | (Omit<Observation, 'reason'> & { readonly reason: 'limit' });
  /** 'held' for a hold that blocks; 'observed' for drift in Observe mode. */
  readonly effect: 'held' | 'observed';
}

export interface PinBookOptions {
  readonly mode: PinningMode;
  /** Approved digests by pin key (`tool/search`). */
  readonly approved: ReadonlyMap<string, string>;
  readonly store: PinStore;
  /** Most definitions remembered per kind (default 1000); a new name past it is held (reason 'limit'), not kept. */
  readonly maxDefinitions?: number;
  readonly now?: () => Date;
  /** Called once per new hold (or Observe-mode drift) of a digest. */
  readonly onDrift?: (event: DriftEvent) => void;
  readonly onStoreError?: (err: Error) => void;
}

const CACHE_LIMIT = 4096;

export class PinBook {
  mode: PinningMode;
  private approved: ReadonlyMap<string, string>;
  private maxDefinitions: number;
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
  /** Observations per kind, against maxDefinitions. */
  private readonly counts = new Map<DefinitionKind, number>();
  /** Keys held past maxDefinitions, so each is alerted once and its calls refused; bounded like `seen`. */
  private readonly overflow = new Set<string>();
  /** Compiled resource templates by URI template, for holdOfRead; null when it does not parse. */
  private readonly templates = new Map<string, UriTemplate | null>();

  constructor(opts: PinBookOptions) {
    this.opts = opts;
    this.mode = opts.mode;
    this.approved = opts.approved;
    this.maxDefinitions = opts.maxDefinitions ?? DEFAULT_MAX_DEFINITIONS;
    this.store = opts.store;
    this.now = opts.now ?? (() => new Date());
  }

  async load(): Promise<void> {
    this.trusted = new Map(await this.store.load());
  }

  /**
   * New approvals, mode or limit (a configuration reload); takes effect at the next sight of each
   * definition. A lower limit forgets nothing already remembered; it holds new names sooner.
   */
  reconfigure(mode: PinningMode, approved: ReadonlyMap<string, string>, maxDefinitions?: number): void {
    this.mode = mode;
    this.approved = approved;
    this.maxDefinitions = maxDefinitions ?? DEFAULT_MAX_DEFINITIONS;
  }

  list(): readonly Observation[] {
    return [...this.observations.values()];
  }

  /** Judges one definition; returns the hold when it may not be shown or called. */
  judge(def: Definition, suspicious = findSuspiciousText(def.body)): Hold | undefined {
    const key = pinKey(def.kind, def.name);
    if (
      !this.observations.has(key) &&
      !this.approved.has(key) &&
      (this.counts.get(def.kind) ?? 0) >= this.maxDefinitions
    )
      return this.overLimit(def, key);
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
      this.counts.set(def.kind, (this.counts.get(def.kind) ?? 0) + 1);
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

  /**
   * A new name past maxDefinitions: held (Observe passes it), neither remembered nor trusted, and
   * alerted once while the overflow set remembers it.
   */
  private overLimit(def: Definition, key: string): Hold | undefined {
    if (!this.overflow.has(key)) {
      if (this.overflow.size >= CACHE_LIMIT) this.overflow.clear();
      this.overflow.add(key);
      const at = this.now().toISOString();
      const observation: DriftEvent['observation'] = {
        kind: def.kind,
        name: def.name,
        digest: def.digest,
        firstSeen: at,
        lastSeen: at,
        state: this.mode === 'Observe' ? 'observed' : 'held',
        reason: 'limit',
        changes: [],
      };
      this.opts.onDrift?.({ observation, effect: this.mode === 'Observe' ? 'observed' : 'held' });
    }
    if (this.mode === 'Observe') return undefined;
    return { key, reason: 'limit', message: HOLD_MESSAGES.limit, pinned: undefined, observed: def.digest };
  }

  private mark(
    obs: Observation,
    reason: PinReason,
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
    if (obs === undefined && this.overflow.has(key))
      return { key, reason: 'limit', message: HOLD_MESSAGES.limit, pinned: undefined, observed: '' };
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

  /**
   * The hold on `resources/read` of `uri`: a held resource template's reads are refused like calls
   * of a held tool (a template the server changed must not be served from either). Templates are
   * compiled once per URI template and held state.
   */
  holdOfRead(uri: string): Hold | undefined {
    if (this.mode === 'Off' || this.mode === 'Observe') return undefined;
    for (const obs of this.observations.values()) {
      if (obs.kind !== 'resourceTemplate' || obs.state !== 'held' || obs.reason === undefined) continue;
      let template = this.templates.get(obs.name);
      if (template === undefined) {
        try {
          template = new UriTemplate(obs.name);
        } catch {
          template = null; // not a template the SDK can parse: nothing it would match
        }
        this.templates.set(obs.name, template);
      }
      if (template?.match(uri) == null) continue;
      return {
        key: pinKey(obs.kind, obs.name),
        reason: obs.reason,
        message: HOLD_MESSAGES[obs.reason],
        pinned: obs.pinned,
        observed: obs.digest,
      };
    }
    return undefined;
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
