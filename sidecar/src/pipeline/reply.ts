import { listMethodsOfResult } from '../contract/methods.ts';
import type { Principal } from '../contract/principal.ts';
import type { JsonRpcId } from '../errors.ts';
import { formatEvent, type SseEvent } from '../transport/sse.ts';
import { type Exchange, serverMessageRecord } from './exchange.ts';
import type { PolicyPort } from './ports.ts';
import type { McpRecord } from './record.ts';

// 7. What the server sends, message by message, on every stream (POST reply, GET stream, resumed
// stream, legacy SSE): list results are filtered to what the caller may use, each answer to one of
// the exchange's own requests is noted on that request's record, and every other message
// (notifications, the server's requests, answers replayed on another stream) is handed on for an
// event of its own. Works on one JSON-RPC message at a time, so streams are never held whole.

export type ReplyResult = NonNullable<McpRecord['result']>;

/** A message from the server that is not the answer to one of the exchange's own requests. */
export interface ServerMessage {
  /** Absent for what is no JSON-RPC message. */
  readonly kind?: 'request' | 'notification' | 'response';
  /** The JSON-RPC method; 'response' for answers; 'invalid' for what is no JSON-RPC message. */
  readonly method: string;
  readonly id?: JsonRpcId;
  readonly result?: ReplyResult;
  /** Why the message failed: it could not be read, and was not passed on when not JSON. */
  readonly failure?: string;
}

export interface ReplyContext {
  readonly principal: Principal | undefined;
  readonly policy: PolicyPort;
  /** Request id -> list method, for replies that must be filtered. */
  readonly filterIds: ReadonlyMap<string | number, string> | undefined;
  /** Takes the outcome of an answer; true when it answers one of the exchange's own requests. */
  answered?(id: string | number, result: ReplyResult): boolean;
  /** Receives every other message, for one audit event each; false: it may not be passed on. */
  other?(message: ServerMessage): boolean;
}

export function exchangeReplyContext(ex: Exchange): ReplyContext {
  return {
    principal: ex.principal,
    policy: ex.runtime.policy,
    filterIds: ex.filterIds,
    answered(id, result) {
      const state = ex.messages.find((s) => s.msg.kind === 'request' && s.msg.id === id);
      if (state === undefined) return false;
      state.record.result = result;
      return true;
    },
    other(message) {
      // failureMode closed: a message whose event cannot be recorded is not passed on, as a call
      // whose event cannot be recorded is not made.
      if (ex.runtime.recorder.admit?.() === false) return false;
      ex.runtime.recorder.record(serverMessageRecord(ex, message));
      return true;
    },
  };
}

/** One SSE event of any stream: what the rewrite of relaySse returns (undefined: as it came). */
export function inspectEvent(ctx: ReplyContext, ev: SseEvent): string | undefined {
  // Events without data (priming events that only carry an id, keep-alives) hold no message.
  if (ev.data === '') return undefined;
  const replaced = inspectReply(ctx, ev.data);
  return replaced === undefined || replaced === ''
    ? replaced
    : formatEvent({ event: ev.event, id: ev.id, data: replaced });
}

/** What inspectMessage returns for a message that must not be passed on. */
const DROP = Symbol('drop');

/**
 * Inspects one message (or batch of them) from the server. Returns replacement text when a list was
 * filtered or a message dropped, undefined when the original bytes may pass unchanged, and '' when
 * nothing may pass: what is not JSON cannot be filtered, and what cannot be audited (failureMode
 * closed) is not passed on.
 */
export function inspectReply(ctx: ReplyContext, text: string): string | undefined {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    ctx.other?.({ method: 'invalid', failure: 'server sent data that is not JSON' });
    return '';
  }
  if (Array.isArray(parsed)) {
    let changed = false;
    const out: unknown[] = [];
    for (const m of parsed) {
      const r = inspectMessage(ctx, m);
      if (r !== undefined) changed = true;
      if (r === undefined) out.push(m);
      else if (r !== DROP) out.push(r);
    }
    if (!changed) return undefined;
    return out.length === 0 ? '' : JSON.stringify(out);
  }
  const r = inspectMessage(ctx, parsed);
  return r === undefined ? undefined : r === DROP ? '' : JSON.stringify(r);
}

// Server-chosen strings are cut to this length in records: an event stays bounded whatever it sends.
const MAX_NAME = 128;

function boundedId(id: unknown): JsonRpcId | undefined {
  if (typeof id === 'string') return id.slice(0, MAX_NAME);
  return typeof id === 'number' || id === null ? id : undefined;
}

function inspectMessage(ctx: ReplyContext, m: unknown): unknown {
  if (m === null || typeof m !== 'object')
    return pass(ctx, { method: 'invalid', failure: 'not a JSON-RPC message' });
  const msg = m as {
    id?: unknown;
    method?: unknown;
    result?: unknown;
    error?: { code?: unknown; message?: unknown } | null;
  };
  if (typeof msg.method === 'string') {
    const id = boundedId(msg.id);
    return pass(
      ctx,
      id === undefined
        ? { kind: 'notification', method: msg.method.slice(0, MAX_NAME) }
        : { kind: 'request', method: msg.method.slice(0, MAX_NAME), id },
    );
  }
  if (msg.result === undefined && (msg.error === undefined || msg.error === null))
    return pass(ctx, { method: 'invalid', failure: 'not a JSON-RPC message' });
  const result: ReplyResult = { isError: true };
  if (msg.error !== undefined && msg.error !== null) {
    if (typeof msg.error.code === 'number') result.errorCode = msg.error.code;
    if (typeof msg.error.message === 'string') result.errorMessage = msg.error.message.slice(0, 256);
  } else {
    result.isError = (msg.result as { isError?: unknown } | null)?.isError === true;
  }
  const answer: ServerMessage = {
    kind: 'response',
    method: 'response',
    id: boundedId(msg.id) ?? null,
    result,
  };
  if (typeof msg.id !== 'string' && typeof msg.id !== 'number') return pass(ctx, answer);
  const listMethod = ctx.filterIds?.get(msg.id);
  const own = ctx.answered?.(msg.id, result) ?? false;
  if (!own && ctx.other?.(answer) === false) return DROP;
  // An answer the exchange cannot name (replayed, or on another stream) is judged by its shape.
  const methods = listMethod !== undefined ? [listMethod] : own ? [] : listMethodsOfResult(msg.result);
  if (methods.length === 0 || msg.result === undefined || ctx.principal === undefined) return undefined;
  let filtered: unknown = msg.result;
  for (const method of methods) filtered = ctx.policy.filterResult(ctx.principal, method, filtered);
  return { ...msg, result: filtered };
}

/** Hands a message on for its own event: unchanged (undefined), or DROP when it may not pass. */
function pass(ctx: ReplyContext, message: ServerMessage): undefined | typeof DROP {
  return ctx.other?.(message) === false ? DROP : undefined;
}
