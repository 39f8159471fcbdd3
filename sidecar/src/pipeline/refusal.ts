import { ERROR_SPECS, jsonRpcError, type ProxyErrorCode } from '../transport/errors.ts';
import type { Exchange, Refusal } from './exchange.ts';

// How the pipeline answers an exchange itself: a Refusal built from the proxy's error table, and
// written as one JSON (or empty) HTTP response.

export function refuse(
  code: ProxyErrorCode,
  reason: string,
  id: Parameters<typeof jsonRpcError>[1],
  outcome: Refusal['outcome'] = 'failed',
): Refusal {
  return { code, httpStatus: ERROR_SPECS[code].httpStatus, outcome, reason, body: jsonRpcError(code, id) };
}

export function sendRefusal(ex: Exchange, r: Refusal): void {
  if (ex.res.headersSent) return;
  const headers: Record<string, string> = { ...r.headers };
  if (r.body === undefined) {
    ex.res.writeHead(r.httpStatus, headers).end();
    return;
  }
  const text = JSON.stringify(r.body);
  headers['content-type'] = 'application/json';
  headers['content-length'] = String(Buffer.byteLength(text));
  ex.res.writeHead(r.httpStatus, headers).end(text);
}
