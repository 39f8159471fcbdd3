import type { Socket } from 'node:net';
import type { McpRecord } from '../record/mcp-record.ts';
import { ERROR_SPECS, jsonRpcError, type ProxyErrorCode } from '../transport/errors.ts';

// Not `import { STATUS_CODES } from 'node:http'`: an ES import of node:http reads every export, its
// WebSocket and fetch classes included, which loads Node's bundled copy of undici (about 5 MiB).
const { STATUS_CODES } = process.getBuiltinModule('node:http');

// Requests refused before any route sees them. Node's HTTP parser: headers too large (431), a request
// not complete in time (408), malformed framing such as Content-Length beside Transfer-Encoding (400);
// fastify's router: a path that does not decode (400). Each gets a JSON-RPC error and one audit event
// that carries no byte the caller sent: the error code names the fault, the raw packet is never read.

/** The proxy's code for a clientError, from Node's error code. */
export function clientErrorCode(nodeCode: string | undefined): ProxyErrorCode {
  if (nodeCode === 'ERR_HTTP_REQUEST_TIMEOUT') return 'REQUEST_TIMEOUT';
  if (nodeCode === 'HPE_HEADER_OVERFLOW') return 'HEADERS_TOO_LARGE';
  return 'INVALID_REQUEST';
}

/** Pure: the record of one request refused before routing; `by` names who refused, `fault` why. */
export function refusedRequestRecord(
  refusal: { code: ProxyErrorCode; by: string; fault: string | undefined; httpMethod: string },
  source: McpRecord['source'],
  transport: McpRecord['transport'],
  now = Date.now(),
): McpRecord {
  return {
    startedAt: now,
    outcome: 'failed',
    transport,
    httpMethod: refusal.httpMethod.slice(0, 16),
    source,
    method: 'http',
    httpStatus: ERROR_SPECS[refusal.code].httpStatus,
    errorCode: refusal.code,
    reason: `refused by ${refusal.by}: ${(refusal.fault ?? 'unknown error').slice(0, 64)}`,
    latencyMs: 0,
    ownLatencyMs: 0,
  };
}

/** Pure: the record of one request the HTTP parser refused. */
export function clientErrorRecord(
  nodeCode: string | undefined,
  source: McpRecord['source'],
  transport: McpRecord['transport'],
  now = Date.now(),
): McpRecord {
  // The parser gave up before the request line was known (or trusted).
  const refusal = {
    code: clientErrorCode(nodeCode),
    by: 'the HTTP parser',
    fault: nodeCode,
    httpMethod: 'unknown',
  };
  return refusedRequestRecord(refusal, source, transport, now);
}

/**
 * The server's clientError listener (fastify's clientErrorHandler). A request that reached the
 * pipeline (the socket carries its response) is recorded by its exchange when the socket closes, so
 * it is answered here but not recorded twice. A reset or destroyed socket, or a client that closed
 * in the middle of a request, cannot be answered and left no request to refuse.
 */
export function clientErrorHandler(
  record: (r: McpRecord) => void,
  transport: McpRecord['transport'],
): (err: NodeJS.ErrnoException, socket: Socket) => void {
  return (err, socket) => {
    if (err.code === 'ECONNRESET' || err.code === 'HPE_INVALID_EOF_STATE' || socket.destroyed) return;
    const inExchange = (socket as Socket & { _httpMessage?: unknown })._httpMessage != null;
    if (!inExchange) {
      const source = { address: socket.remoteAddress ?? '', port: socket.remotePort };
      record(clientErrorRecord(err.code, source, transport));
    }
    const code = clientErrorCode(err.code);
    const { httpStatus } = ERROR_SPECS[code];
    const body = JSON.stringify(jsonRpcError(code, null));
    if (socket.writable)
      socket.write(
        `HTTP/1.1 ${httpStatus} ${STATUS_CODES[httpStatus]}\r\nConnection: close\r\n` +
          `Content-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
      );
    socket.destroy(err);
  };
}
