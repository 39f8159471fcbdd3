import { ERROR_SPECS, jsonRpcError, ProxyError } from '../errors.ts';
import { type Exchange, idsOf } from './exchange.ts';
import { sendRefusal } from './stages.ts';

// What every transport does when the upstream cannot be reached or fails mid-exchange.

/** Answers an upstream failure with a JSON-RPC error per request, carrying each request's id. */
export function upstreamFailure(ex: Exchange, err: unknown): void {
  ex.upstreamWait.stop();
  const e = err instanceof ProxyError ? err : new ProxyError('UPSTREAM_UNAVAILABLE', (err as Error).message);
  const requests = ex.messages.filter((m) => m.msg.kind === 'request');
  // Notifications get no JSON-RPC answer, only the HTTP status.
  const body =
    requests.length === 0 && ex.messages.length > 0
      ? undefined
      : ex.batch
        ? requests.map((m) => jsonRpcError(e.code, m.msg.kind === 'request' ? m.msg.id : null))
        : jsonRpcError(e.code, idsOf(ex));
  ex.refusal = {
    code: e.code,
    httpStatus: ERROR_SPECS[e.code].httpStatus,
    outcome: 'failed',
    reason: e.message,
    body,
  };
  sendRefusal(ex, ex.refusal);
}
