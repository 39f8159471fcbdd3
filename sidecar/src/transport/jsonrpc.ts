import type { JsonRpcId, ProxyErrorCode } from './errors.ts';
import { foldKey, scanJsonText, type WatchedMembers } from './json-text.ts';

// Parses and classifies a JSON-RPC 2.0 body. The raw text is scanned first (json-text.ts): nesting
// depth before JSON.parse, so a hostile body costs one linear scan and no deep object graph, and
// what JSON.parse would hide (duplicate or case-colliding names, lone surrogates, inexact numbers,
// members that read as decided-on ones).

export type ClientMessage =
  | {
      readonly kind: 'request';
      readonly id: string | number;
      readonly method: string;
      readonly params: Params;
    }
  | { readonly kind: 'notification'; readonly method: string; readonly params: Params }
  | { readonly kind: 'response'; readonly id: JsonRpcId; readonly isError: boolean };

export type Params = Readonly<Record<string, unknown>> | undefined;

export type ParseResult =
  | {
      readonly ok: true;
      readonly batch: boolean;
      readonly messages: readonly ClientMessage[];
      readonly raw: unknown;
    }
  | { readonly ok: false; readonly code: ProxyErrorCode; readonly id: JsonRpcId; readonly detail: string };

export interface ParseLimits {
  readonly maxJsonDepth: number;
  readonly maxBatchSize: number;
}

export function parseJsonRpc(text: string, limits: ParseLimits): ParseResult {
  const { problem, disguised } = scanJsonText(text, limits.maxJsonDepth, DECIDED_MEMBERS);
  if (problem?.kind === 'depth')
    return { ok: false, code: 'JSON_TOO_DEEP', id: null, detail: problem.detail };
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    return { ok: false, code: 'PARSE_ERROR', id: null, detail: (err as Error).message };
  }
  // Valid JSON that parsers read differently: refused, as the upstream must read what was decided.
  if (problem !== undefined)
    return { ok: false, code: 'INVALID_REQUEST', id: idOf(raw), detail: problem.detail };
  if (Array.isArray(raw)) {
    if (raw.length === 0) return { ok: false, code: 'INVALID_REQUEST', id: null, detail: 'empty batch' };
    if (raw.length > limits.maxBatchSize) {
      return {
        ok: false,
        code: 'BATCH_TOO_LARGE',
        id: null,
        detail: `more than ${limits.maxBatchSize} messages`,
      };
    }
    const messages: ClientMessage[] = [];
    // Request ids seen so far, to their element: answers are matched to requests by id, so two
    // requests under one id would let one's answer be filtered (or judged) as the other's.
    const requests = new Map<string | number, number>();
    for (const [i, element] of raw.entries()) {
      const m = classify(element, disguised?.get(i));
      if (typeof m === 'string') {
        return { ok: false, code: 'INVALID_REQUEST', id: idOf(element), detail: `batch element ${i}: ${m}` };
      }
      if (m.kind === 'request') {
        const first = requests.get(m.id);
        if (first !== undefined) {
          const detail = `batch element ${i}: id ${JSON.stringify(m.id)} is the id of element ${first}`;
          return { ok: false, code: 'INVALID_REQUEST', id: null, detail };
        }
        requests.set(m.id, i);
      }
      messages.push(m);
    }
    return { ok: true, batch: true, messages, raw };
  }
  const m = classify(raw, disguised?.get(0));
  if (typeof m === 'string') return { ok: false, code: 'INVALID_REQUEST', id: idOf(raw), detail: m };
  return { ok: true, batch: false, messages: [m], raw };
}

function isObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

function isId(v: unknown): v is string | number {
  return typeof v === 'string' || (typeof v === 'number' && Number.isFinite(v));
}

// The members a decision reads. A member that is not one of them but folds to one (`Method`,
// `Arguments`, `ſ`-spellings) is what a case-insensitive parser (Go's encoding/json) takes for it,
// so the message is refused: otherwise the sidecar would decide on one reading and the upstream act
// on another, even where no two names of the message collide with each other. The text scan finds
// them while it folds every name anyway.
const MESSAGE_MEMBERS = ['jsonrpc', 'id', 'method', 'params', 'result', 'error'];
const PARAMS_MEMBERS = ['name', 'uri', 'arguments', '_meta', 'cursor', 'ref', 'argument', 'notifications'];
const foldedMembers = (names: readonly string[]) => new Map(names.map((n) => [foldKey(n), n]));
const DECIDED_MEMBERS: WatchedMembers = {
  folds: foldedMembers(MESSAGE_MEMBERS),
  below: new Map([['params', { folds: foldedMembers(PARAMS_MEMBERS) }]]),
};

/**
 * Returns the classified message, or why it is not a valid JSON-RPC 2.0 message. `disguised` is the
 * text scan's finding for this message: a member that reads as a decided-on one.
 */
export function classify(v: unknown, disguised?: string): ClientMessage | string {
  if (!isObject(v)) return 'not an object';
  if (disguised !== undefined) return disguised;
  if (v.jsonrpc !== '2.0') return 'jsonrpc must be "2.0"';
  if ('method' in v) {
    if (typeof v.method !== 'string' || v.method.length === 0) return 'method must be a non-empty string';
    if (v.params !== undefined && !isObject(v.params)) return 'params must be an object';
    const params = v.params as Params;
    if (!('id' in v)) return { kind: 'notification', method: v.method, params };
    if (!isId(v.id)) return 'id must be a string or a number';
    return { kind: 'request', id: v.id, method: v.method, params };
  }
  if ('result' in v || 'error' in v) {
    if ('result' in v && 'error' in v) return 'a response has result or error, not both';
    if (!(isId(v.id) || v.id === null)) return 'id must be a string, a number or null';
    if ('error' in v && !isObject(v.error)) return 'error must be an object';
    return { kind: 'response', id: v.id, isError: 'error' in v };
  }
  return 'neither a request, a notification nor a response';
}

function idOf(v: unknown): JsonRpcId {
  return isObject(v) && isId(v.id) ? v.id : null;
}
