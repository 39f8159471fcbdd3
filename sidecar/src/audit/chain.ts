import { createHash } from 'node:crypto';
import canonicalize from 'canonicalize';
import { type AuditEvent, GENESIS_HASH } from './event.ts';

// Tamper evidence: each event carries its per-instance sequence number, the hash of the previous event
// and its own hash over the RFC 8785 (JCS) canonical JSON of everything but `hash`. JCS comes from
// `canonicalize`, the reference implementation by the RFC's author, so any verifier in any language
// gets the same bytes. Deleting, reordering or editing an event breaks the chain at that event.

export type UnsealedEvent = Omit<AuditEvent, 'hash'>;

export function eventHash(event: UnsealedEvent): string {
  const { hash: _ignored, ...rest } = event as AuditEvent;
  const canonical = canonicalize(rest);
  if (canonical === undefined) throw new TypeError('audit event is not serialisable');
  return createHash('sha256').update(canonical).digest('hex');
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
      const unsealed: UnsealedEvent = { schema, id, time, instance, seq, prevHash: prev, ...rest };
      const hash = eventHash(unsealed);
      prev = hash;
      return { ...unsealed, hash };
    },
    get lastSeq() {
      return seq;
    },
  };
}
