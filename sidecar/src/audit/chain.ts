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

// Sealing builds each event with its keys already in RFC 8785 order (code-unit order, at every
// level), so JSON.stringify writes the canonical form at native speed, about 14 µs a message less
// than `canonicalize` on the request path, where every message is sealed. The written line is that canonical form
// with `hash` appended. Objects list integer-like keys first whatever their insertion order, so an
// event whose data has a key starting with a digit (or a toJSON method) is canonicalised by
// `canonicalize` instead. Unit tests hold every sealed hash equal to eventHash's.
const EVENT_KEYS = Object.keys(AuditEventSchema.properties)
  .filter((k) => k !== 'hash')
  .sort();
const SLOW_PATH = Symbol('use the reference implementation');

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
    const c = key.charCodeAt(0);
    if (c >= 0x30 && c <= 0x39) return SLOW_PATH;
    const v = sortedCopy(obj[key]);
    if (v === SLOW_PATH) return SLOW_PATH;
    if (v !== undefined) out[key] = v;
  }
  return out;
}

/** The chain of one sidecar instance: hands out seq numbers and links each event to the last. */
export interface Chain {
  seal(event: Omit<AuditEvent, 'hash' | 'seq' | 'prevHash'>): AuditEvent;
  readonly lastSeq: number;
}

export function createChain(): Chain {
  let seq = 0;
  let prev = GENESIS_HASH;
  return {
    seal(body) {
      seq += 1;
      const fields: Record<string, unknown> = { ...body, seq, prevHash: prev };
      const event: Record<string, unknown> = {};
      let canonical: string | undefined;
      for (const key of EVENT_KEYS) {
        const v = sortedCopy(fields[key]);
        if (v === SLOW_PATH) {
          canonical = canonicalize(fields);
          break;
        }
        if (v !== undefined) event[key] = v;
      }
      const sealed = (canonical === undefined ? event : fields) as AuditEvent;
      sealed.hash = hash('sha256', canonical ?? JSON.stringify(event));
      prev = sealed.hash;
      return sealed;
    },
    get lastSeq() {
      return seq;
    },
  };
}
