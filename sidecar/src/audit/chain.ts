import { hash } from 'node:crypto';
import canonicalize from 'canonicalize';
import { type AuditEvent, GENESIS_HASH } from './event.ts';

// Tamper evidence: each event carries its per-instance sequence number, the hash of the previous event
// and its own hash over the RFC 8785 (JCS) canonical JSON of everything but `hash`. Any verifier in any
// language gets the same bytes. Deleting, reordering or editing an event breaks the chain at that event.

export type UnsealedEvent = Omit<AuditEvent, 'hash'>;

/**
 * RFC 8785 canonical JSON. The fast path copies the value with its keys in UTF-16 code-unit order and
 * lets the native serialiser write it, which is the form the RFC prescribes for strings and numbers;
 * that costs a third of `canonicalize`'s time on the request path. Objects list integer-like keys
 * first whatever their insertion order, so a value with a key starting with a digit (or a toJSON
 * method) goes to `canonicalize`, the reference implementation by the RFC's author. A unit test holds the two equal.
 */
export function canonicalJson(value: unknown): string {
  const copy = sortedCopy(value);
  const text = copy === SLOW_PATH ? canonicalize(value) : JSON.stringify(copy);
  if (text === undefined) throw new TypeError('not serialisable as JSON');
  return text;
}

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
    out[key] = v;
  }
  return out;
}

export function eventHash(event: UnsealedEvent): string {
  const { hash: _ignored, ...rest } = event as AuditEvent;
  return hash('sha256', canonicalJson(rest));
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
    seal(partial) {
      seq += 1;
      // Chain fields first after the identity fields, hash last: easier to read in a raw log.
      const { schema, id, time, instance, ...rest } = partial;
      const event = { schema, id, time, instance, seq, prevHash: prev, ...rest } as AuditEvent;
      event.hash = hash('sha256', canonicalJson(event));
      prev = event.hash;
      return event;
    },
    get lastSeq() {
      return seq;
    },
  };
}
