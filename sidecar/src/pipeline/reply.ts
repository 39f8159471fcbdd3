import type { Principal } from '../authn/principal.ts';
import type { Exchange } from './exchange.ts';
import type { PolicyPort } from './ports.ts';
import type { McpRecord } from './record.ts';

// 7. The reply, message by message: list results are filtered to what the caller may use, and each
// answer is noted on the record of the request it answers. Works on one JSON-RPC message at a time,
// so SSE streams are handled per event and never held whole.

export type ReplyResult = NonNullable<McpRecord['result']>;

export interface ReplyContext {
  readonly principal: Principal | undefined;
  readonly policy: PolicyPort;
  /** Request id -> list method, for replies that must be filtered. */
  readonly filterIds: ReadonlyMap<string | number, string> | undefined;
  /** Receives the outcome of each answered request. */
  answered?(id: string | number, result: ReplyResult): void;
}

export function exchangeReplyContext(ex: Exchange): ReplyContext {
  return {
    principal: ex.principal,
    policy: ex.runtime.policy,
    filterIds: ex.filterIds,
    answered(id, result) {
      const state = ex.messages.find((s) => s.msg.kind === 'request' && s.msg.id === id);
      if (state !== undefined) state.record.result = result;
    },
  };
}

/** Whether a serialized message could be a response worth inspecting (cheap pre-check). */
export function mayBeResponse(text: string): boolean {
  return text.includes('"result"') || text.includes('"error"');
}

/**
 * Inspects one reply message (or batch of them). Returns replacement text when a list was filtered,
 * undefined when the original bytes may pass unchanged.
 */
export function inspectReply(ctx: ReplyContext, text: string): string | undefined {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (Array.isArray(parsed)) {
    let changed = false;
    const out = parsed.map((m) => {
      const r = inspectMessage(ctx, m);
      if (r === undefined) return m;
      changed = true;
      return r;
    });
    return changed ? JSON.stringify(out) : undefined;
  }
  const r = inspectMessage(ctx, parsed);
  return r === undefined ? undefined : JSON.stringify(r);
}

function inspectMessage(ctx: ReplyContext, m: unknown): unknown {
  if (m === null || typeof m !== 'object') return undefined;
  const msg = m as { id?: unknown; result?: unknown; error?: { code?: unknown; message?: unknown } | null };
  if (typeof msg.id !== 'string' && typeof msg.id !== 'number') return undefined;
  if (ctx.answered !== undefined) {
    if (msg.error !== undefined && msg.error !== null) {
      const result: ReplyResult = { isError: true };
      if (typeof msg.error.code === 'number') result.errorCode = msg.error.code;
      if (typeof msg.error.message === 'string') result.errorMessage = msg.error.message.slice(0, 256);
      ctx.answered(msg.id, result);
    } else if (msg.result !== undefined) {
      ctx.answered(msg.id, { isError: (msg.result as { isError?: unknown } | null)?.isError === true });
    }
  }
  const method = ctx.filterIds?.get(msg.id);
  if (method === undefined || msg.result === undefined || ctx.principal === undefined) return undefined;
  return { ...msg, result: ctx.policy.filterResult(ctx.principal, method, msg.result) };
}
