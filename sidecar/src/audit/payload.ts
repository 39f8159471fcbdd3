import type { CaptureLevel, Payloads } from '../contract/audit.ts';
import { truncateUtf8 } from './bounds.ts';
import type { AuditEvent } from './event.ts';

// Payload capture: decides how much of a message's arguments reaches the audit trail. Compiled once
// from configuration (paths split, detectors built); capture() runs per event and never mutates the
// caller's arguments.

export const REDACTED = '[REDACTED]';
export const DEFAULT_MAX_BYTES = 4096;

type Payload = NonNullable<AuditEvent['payload']>;

// Keys whose values are secrets whatever they look like.
const SECRET_KEY =
  /^(?:pass(?:word|wd|phrase)?|pwd|secret|client[-_]?secret|api[-_]?key|apikey|access[-_]?token|refresh[-_]?token|id[-_]?token|token|auth(?:orization)?|bearer|private[-_]?key|credentials?|cookie|session[-_]?token|x[-_]api[-_]key)$/i;

// Values that are secrets wherever they appear, replaced in place inside longer strings.
const SECRET_VALUE = new RegExp(
  [
    String.raw`-----BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY-----[\s\S]*?(?:-----END (?:[A-Z0-9]+ )*PRIVATE KEY-----|$)`,
    String.raw`\bBearer\s+[A-Za-z0-9\-._~+/]{8,}=*`,
    String.raw`\beyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]*`, // JWT
    String.raw`\b(?:sk|pk|rk)-(?:live-|test-|proj-|ant-)?[A-Za-z0-9_-]{16,}`, // OpenAI, Anthropic, Stripe-style
    String.raw`\b(?:sk|pk|rk)_(?:live|test)_[A-Za-z0-9]{16,}`,
    String.raw`\bgh[pousr]_[A-Za-z0-9]{30,}`, // GitHub
    String.raw`\bgithub_pat_[A-Za-z0-9_]{30,}`,
    String.raw`\b(?:AKIA|ASIA)[0-9A-Z]{16}\b`, // AWS access key id
    String.raw`\bxox[abposr]-[A-Za-z0-9-]{10,}`, // Slack
    String.raw`\bAIza[0-9A-Za-z_-]{35}\b`, // Google API key
    String.raw`\bglpat-[A-Za-z0-9_-]{20,}`, // GitLab
    String.raw`(?<=\b(?:password|passwd|pwd|secret|token|api[_-]?key)\s*[=:]\s*)[^\s&;,"']+`, // k=v in strings
    String.raw`(?<=://[^/\s:@]+:)[^@\s/]+(?=@)`, // password in a URL's userinfo
  ].join('|'),
  'gi',
);

export interface PayloadCapture {
  readonly level: CaptureLevel;
  capture(args: unknown): Payload | undefined;
}

/** Compiles the payloads section; `level` may be raised per server by the operator, never lowered. */
export function compilePayloadCapture(cfg: Payloads | undefined): PayloadCapture {
  const level: CaptureLevel = cfg?.capture ?? 'metadata';
  const maxBytes = cfg?.maxBytes ?? DEFAULT_MAX_BYTES;
  const detectors = cfg?.detectors ?? true;
  const paths = (cfg?.redactPaths ?? []).map((p) => p.split('.'));

  return {
    level,
    capture(args) {
      if (level === 'none') return undefined;
      const raw = args === undefined ? '' : JSON.stringify(args);
      const bytes = Buffer.byteLength(raw ?? '');
      const payload: Payload = { bytes, capture: level };
      if (isRecord(args)) payload.keys = Object.keys(args);
      if (level === 'metadata' || args === undefined) return payload;

      const redacted: string[] = [];
      let value: unknown = args;
      if (paths.length > 0) value = redactPaths(value, paths, redacted);
      if (level === 'redacted' && detectors) value = redactDetected(value, '', redacted);
      if (redacted.length > 0) payload.redacted = redacted;

      const json = value === args ? raw : JSON.stringify(value);
      if (Buffer.byteLength(json) <= maxBytes) {
        payload.arguments = value;
      } else {
        payload.preview = truncateUtf8(json, maxBytes);
        payload.truncated = true;
      }
      return payload;
    },
  };
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Copy-on-write replacement of the values at the configured paths ('*' = any key or index). */
function redactPaths(value: unknown, paths: readonly string[][], out: string[]): unknown {
  let result = value;
  for (const path of paths) result = redactAt(result, path, 0, '', out);
  return result;
}

function redactAt(value: unknown, path: readonly string[], i: number, at: string, out: string[]): unknown {
  if (i === path.length) {
    out.push(at);
    return REDACTED;
  }
  if (typeof value !== 'object' || value === null) return value;
  const seg = path[i] as string;
  const keys = seg === '*' ? Object.keys(value) : Object.hasOwn(value, seg) ? [seg] : [];
  if (keys.length === 0) return value;
  const copy: Record<string, unknown> | unknown[] = Array.isArray(value) ? [...value] : { ...value };
  for (const k of keys) {
    const child = (value as Record<string, unknown>)[k];
    (copy as Record<string, unknown>)[k] = redactAt(child, path, i + 1, at ? `${at}.${k}` : k, out);
  }
  return copy;
}

/** Built-in detectors: secret-looking keys and secret-looking values, recursively, copy-on-write. */
function redactDetected(value: unknown, at: string, out: string[]): unknown {
  if (typeof value === 'string') {
    SECRET_VALUE.lastIndex = 0;
    if (!SECRET_VALUE.test(value)) return value;
    out.push(at || '$');
    return value.replace(SECRET_VALUE, REDACTED);
  }
  if (typeof value !== 'object' || value === null) return value;
  let copy: Record<string, unknown> | unknown[] | undefined;
  for (const [k, child] of Object.entries(value)) {
    const path = at ? `${at}.${k}` : k;
    let next: unknown;
    if (
      !Array.isArray(value) &&
      SECRET_KEY.test(k) &&
      child !== null &&
      typeof child !== 'object' &&
      child !== REDACTED
    ) {
      out.push(path);
      next = REDACTED;
    } else {
      next = redactDetected(child, path, out);
    }
    if (next !== child) {
      copy ??= Array.isArray(value) ? [...value] : { ...value };
      (copy as Record<string, unknown>)[k] = next;
    }
  }
  return copy ?? value;
}
