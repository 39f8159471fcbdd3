import { type Exchange, header, idsOf, newRecord } from './exchange.ts';
import { refuse, sendRefusal } from './refusal.ts';
import type { Stage, TransportBinding } from './stages.ts';
import { endMessageSpans, startMessageSpans } from './trace.ts';

// The runner: one exchange through its stages (stages.ts), then forwarded or refused, and always
// recorded: one record per message, whatever stopped it.

/**
 * Runs the stages in order, then forwards (6) and streams/filters the reply (7), and finally
 * records one event per message; a refusal is answered and recorded the same way.
 */
export async function runExchange(
  ex: Exchange,
  stages: readonly Stage[],
  binding: TransportBinding,
): Promise<void> {
  try {
    for (const stage of stages) {
      // Most stages are synchronous: awaiting only promises spares a microtask turn each.
      const result = stage(ex);
      const refusal = result instanceof Promise ? await result : result;
      if (ex.trace === undefined && ex.messages.length > 0 && ex.runtime.tracing !== undefined) {
        ex.trace = startMessageSpans(ex, ex.runtime.tracing);
      }
      if (refusal !== undefined) {
        ex.refusal = refusal;
        break;
      }
    }
    if (ex.refusal === undefined || ex.refusal.code === 'POLICY_DENIED') {
      await binding.forward(ex, ex.refusal);
    } else {
      sendRefusal(ex, ex.refusal);
    }
  } catch (err) {
    ex.refusal = refuse('INTERNAL', (err as Error).message, idsOf(ex));
    if (!ex.res.headersSent) sendRefusal(ex, ex.refusal);
    else ex.res.destroy();
  } finally {
    finish(ex);
  }
}

function finish(ex: Exchange): void {
  const now = performance.now();
  const latencyMs = now - ex.startedHr;
  ex.upstreamWait.stop(now); // an upstream that failed, or a client that left mid-stream
  const ownLatencyMs = latencyMs - ex.upstreamWait.ms;
  const r = ex.refusal;
  if (ex.messages.length === 0)
    ex.messages.push({ msg: undefined as never, record: newRecord(ex, undefined) });
  for (const { msg, record } of ex.messages) {
    record.latencyMs = latencyMs;
    record.ownLatencyMs = ownLatencyMs;
    record.httpStatus ??= ex.res.statusCode;
    if (ex.principal) record.principal = ex.principal;
    if (ex.sessionId !== undefined) record.session ??= ex.sessionId;
    if (ex.protocolVersion !== undefined) record.protocolVersion = ex.protocolVersion;
    if (r !== undefined && record.outcome !== 'denied') {
      record.outcome = r.outcome;
      record.errorCode = r.code;
      record.reason = r.reason;
    }
    // Without spans (tracing off, or no SDK), the caller's own context: params._meta first, as the
    // MCP convention puts it there, then the HTTP header.
    if (record.traceparent === undefined) {
      const tp = metaTraceparent(msg) ?? header(ex.req, 'traceparent');
      if (tp !== undefined) record.traceparent = tp;
    }
  }
  if (ex.trace !== undefined && ex.runtime.tracing !== undefined)
    endMessageSpans(ex, ex.runtime.tracing, ex.trace);
  for (const { record } of ex.messages) ex.runtime.recorder.record(record);
}

function metaTraceparent(msg: Exchange['messages'][number]['msg'] | undefined): string | undefined {
  if (msg === undefined || msg.kind === 'response') return undefined;
  const tp = (msg.params?._meta as { traceparent?: unknown } | undefined)?.traceparent;
  return typeof tp === 'string' ? tp : undefined;
}
