import { hash } from 'node:crypto';
import type { AuditEvent } from './event.ts';

// Bounds one event in bytes: every string the caller (or the upstream, or a token) supplied is cut to
// maxFieldBytes of UTF-8, and every list to maxFieldBytes of JSON, so a 4 MB tool name costs the trail
// 1 KiB, not 4 MB per queued copy. Each cut is listed in the event's `truncatedFields` with the
// original's length and SHA-256, so the SIEM can still match the value it was sent. Pure; copies on
// write and never changes the caller's objects. The captured arguments have their own cap
// (payloads.maxBytes) and are not walked.

export const DEFAULT_MAX_FIELD_BYTES = 1024;

export type Truncation = NonNullable<AuditEvent['truncatedFields']>[number];

// Written by the sidecar itself, not by a caller: never cut.
const OWN_FIELDS: ReadonlySet<string> = new Set(['schema', 'id', 'time', 'instance', 'type', 'outcome']);
// Governed by payloads.maxBytes (a preview already marks its own truncation).
const CAPTURED = new Set(['arguments', 'preview']);

/**
 * Returns `body` with every caller-supplied string and list within `maxFieldBytes`, and the cuts
 * listed in `truncatedFields`; the same object when nothing was over.
 */
export function boundEvent<T extends Record<string, unknown>>(body: T, maxFieldBytes: number): T {
  const cuts: Truncation[] = [];
  let out: Record<string, unknown> | undefined;
  for (const key in body) {
    if (OWN_FIELDS.has(key)) continue;
    const value = body[key];
    const bounded = boundValue(value, `/${key}`, maxFieldBytes, cuts, key === 'payload');
    if (bounded !== value) {
      out ??= { ...body };
      out[key] = bounded;
    }
  }
  if (out === undefined) return body;
  out.truncatedFields = cuts;
  return out as T;
}

function boundValue(value: unknown, at: string, max: number, cuts: Truncation[], payload = false): unknown {
  if (typeof value === 'string') return capString(value, at, max, cuts);
  if (typeof value !== 'object' || value === null) return value;
  if (Array.isArray(value)) return boundList(value, at, max, cuts);
  let copy: Record<string, unknown> | undefined;
  // for...in, not Object.entries: this runs on every event, and allocates nothing when nothing is cut.
  for (const key in value) {
    if (payload && CAPTURED.has(key)) continue;
    const child = (value as Record<string, unknown>)[key];
    const bounded = boundValue(child, `${at}/${pointerToken(key)}`, max, cuts);
    if (bounded !== child) {
      copy ??= { ...value };
      copy[key] = bounded;
    }
  }
  return copy ?? value;
}

/** A list keeps its first elements while their JSON fits; each element is capped on its own. */
function boundList(list: readonly unknown[], at: string, max: number, cuts: Truncation[]): unknown {
  if (surelyFits(list, max)) return list;
  let bytes = 2; // []
  let kept: unknown[] | undefined;
  for (let i = 0; i < list.length; i++) {
    const element = boundValue(list[i], `${at}/${i}`, max, cuts);
    const size = jsonBytes(element) + (i > 0 ? 1 : 0);
    if (bytes + size > max && i > 0) {
      const json = JSON.stringify(list);
      cuts.push({ bytes: Buffer.byteLength(json), field: at, sha256: hash('sha256', json) });
      return kept ?? list.slice(0, i);
    }
    bytes += size;
    if (element !== list[i]) kept ??= list.slice(0, i);
    kept?.push(element);
  }
  return kept ?? list;
}

/** The first `max` bytes of `s` (whole characters), as a new string; `s` itself when it fits. */
export function capString(s: string, at: string, max: number, cuts: Truncation[]): string {
  // A UTF-16 code unit is at most 3 bytes of UTF-8: most strings are ruled out without measuring.
  if (s.length * 3 <= max) return s;
  const bytes = Buffer.byteLength(s);
  if (bytes <= max) return s;
  cuts.push({ bytes, field: at, sha256: hash('sha256', s) }); // keys in canonical order
  return truncateUtf8(s, max);
}

/**
 * Cuts at a character boundary. Goes through a Buffer on purpose: String#slice may return a view
 * that keeps the whole (4 MB) original alive for as long as the event is queued.
 */
export function truncateUtf8(s: string, maxBytes: number): string {
  const buf = Buffer.from(s.length > maxBytes ? s.slice(0, maxBytes) : s);
  if (buf.length <= maxBytes) return buf.toString('utf8');
  // Drop a split multi-byte character at the cut rather than emit U+FFFD.
  return buf
    .subarray(0, maxBytes)
    .toString('utf8')
    .replace(/\uFFFD$/, '');
}

/** A list of short strings is within the cap without serialising it (JSON: at most 6 bytes a code unit). */
function surelyFits(list: readonly unknown[], max: number): boolean {
  let bound = 2;
  for (const v of list) {
    if (typeof v !== 'string') return false;
    bound += v.length * 6 + 3;
    if (bound > max) return false;
  }
  return true;
}

function jsonBytes(v: unknown): number {
  return Buffer.byteLength(JSON.stringify(v) ?? '');
}

/** RFC 6901: '~' and '/' in a key are escaped. */
function pointerToken(key: string): string {
  return key.replaceAll('~', '~0').replaceAll('/', '~1');
}
