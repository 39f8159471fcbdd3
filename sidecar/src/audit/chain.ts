import { hash } from 'node:crypto';
import canonicalize from 'canonicalize';
import { type AuditEvent, AuditEvent as AuditEventSchema, GENESIS_HASH } from './event.ts';

// Tamper evidence: each event carries its per-instance sequence number, the hash of the previous event
// and its own hash over the RFC 8785 (JCS) canonical JSON of everything but `hash`. Any verifier in any
// language gets the same bytes. Deleting, reordering or editing an event breaks the chain at that event.

export type UnsealedEvent = Omit<AuditEvent, 'hash'>;

/** The reference computation, used to verify: `canonicalize` is by the RFC's author. */
export function eventHash(event: UnsealedEvent): string {
  const { hash: _ignored, ...rest } = event as AuditEvent;
  const canonical = canonicalize(rest);
  if (canonical === undefined) throw new TypeError('audit event is not serialisable');
  return hash('sha256', canonical);
}

// Sealing writes each event with its keys in RFC 8785 order (code-unit order, at every level), so
// one JSON.stringify gives the canonical form at native speed, and the written line is that form with
// `hash` appended. Values already in order (what build-event makes, and most decoded JSON) are checked
// in place without a copy; others are copied with sorted keys. Objects list integer-like keys first
// whatever their insertion order, so data with a key starting with a digit (or a toJSON method) is
// canonicalised by `canonicalize` instead. Unit tests hold every sealed hash equal to eventHash's.
const EVENT_KEYS = Object.keys(AuditEventSchema.properties)
  .filter((k) => k !== 'hash')
  .sort();
const SLOW_PATH = Symbol('use the reference implementation');

const isDigit = (key: string) => {
  const c = key.charCodeAt(0);
  return c >= 0x30 && c <= 0x39;
};

function isPlainObject(value: object): value is Record<string, unknown> {
  const proto = Object.getPrototypeOf(value);
  return (
    (proto === Object.prototype || proto === null) &&
    typeof (value as { toJSON?: unknown }).toJSON !== 'function'
  );
}

/** True when JSON.stringify already writes `value` canonically; allocates nothing. */
function inCanonicalOrder(value: unknown): boolean {
  if (typeof value !== 'object' || value === null) return true;
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) if (!inCanonicalOrder(value[i])) return false;
    return true;
  }
  if (!isPlainObject(value)) return false;
  let last: string | undefined;
  for (const key in value) {
    if (isDigit(key) || (last !== undefined && !(last < key))) return false;
    if (!inCanonicalOrder(value[key])) return false;
    last = key;
  }
  return true;
}

function sortedCopy(value: unknown): unknown {
  if (typeof value !== 'object' || value === null) return value;
  if (Array.isArray(value)) {
    const out = new Array<unknown>(value.length);
    for (let i = 0; i < value.length; i++) {
      const v = sortedCopy(value[i]);
      if (v === SLOW_PATH) return SLOW_PATH;
      out[i] = v;
    }
    return out;
  }
  const obj = value as Record<string, unknown>;
  if (typeof obj.toJSON === 'function') return SLOW_PATH;
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(obj).sort()) {
    if (isDigit(key)) return SLOW_PATH;
    const v = sortedCopy(obj[key]);
    if (v === SLOW_PATH) return SLOW_PATH;
    if (v !== undefined) out[key] = v;
  }
  return out;
}

// U+2028 and U+2029 may stand raw in JSON, and RFC 8785 keeps them raw (the hash covers the raw
// characters), but many line readers (Node's readline, log shippers) end a line at them. Written lines
// carry them escaped; any JSON parser restores them, so the canonical form and the hash are unchanged.
const LINE_SEPARATORS = /[\u2028\u2029]/g;
const HAS_LINE_SEPARATOR = /[\u2028\u2029]/;

export function escapeLineSeparators(json: string): string {
  if (!HAS_LINE_SEPARATOR.test(json)) return json; // nearly always: no copy
  return json.replace(LINE_SEPARATORS, (c) => (c === '\u2028' ? '\\u2028' : '\\u2029'));
}

export interface SealedEvent {
  readonly event: AuditEvent;
  /** The event as written: its canonical JSON with `hash` appended, U+2028/U+2029 escaped. */
  readonly line: string;
}

/** The chain of one sidecar instance: hands out seq numbers and links each event to the last. */
export interface Chain {
  seal(event: Omit<AuditEvent, 'hash' | 'seq' | 'prevHash'>): SealedEvent;
  readonly lastSeq: number;
}

export function createChain(): Chain {
  let seq = 0;
  let prev = GENESIS_HASH;
  return {
    seal(body) {
      seq += 1;
      const prevHash = prev;
      const fields = body as Record<string, unknown>;
      const event: Record<string, unknown> = {};
      let slow = false;
      for (const key of EVENT_KEYS) {
        let v = key === 'seq' ? seq : key === 'prevHash' ? prevHash : fields[key];
        if (v === undefined) continue;
        if (!inCanonicalOrder(v)) v = sortedCopy(v);
        if (v === SLOW_PATH) {
          slow = true;
          break;
        }
        event[key] = v;
      }
      const sealed = (slow ? { ...body, seq, prevHash } : event) as AuditEvent;
      const canonical = slow ? canonicalize(sealed) : JSON.stringify(sealed);
      if (canonical === undefined) throw new TypeError('audit event is not serialisable');
      sealed.hash = hash('sha256', canonical);
      prev = sealed.hash;
      const line = `${canonical.slice(0, -1)},"hash":"${sealed.hash}"}`;
      return { event: sealed, line: escapeLineSeparators(line) };
    },
    get lastSeq() {
      return seq;
    },
  };
}
