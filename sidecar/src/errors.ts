// Every way the proxy itself can refuse or fail a message, in one place: each code maps to the HTTP
// status and JSON-RPC error code a client sees. Clients get a short generic message; the detail goes
// to the audit record and the log, never to the response.
//
// JSON-RPC codes: -32700..-32600 are JSON-RPC 2.0's own; -32000..-32099 are left to implementations.
// -32003 (policy denial) is Portcullis' documented code for "the policy does not allow this call";
// -32004 (legacy SSE) refuses a list request while too many others await their answer in the session;
// -32005 refuses a call for which the sidecar holds no upstream credential for this caller (no
// per-principal mapping, no token to exchange, or the identity provider refused the exchange);
// -32020 is the MCP SDK's code for an Mcp-Method/Mcp-Name header that disagrees with the body.

export type ProxyErrorCode =
  | 'PARSE_ERROR'
  | 'INVALID_REQUEST'
  | 'INVALID_PARAMS'
  | 'BODY_TOO_LARGE'
  | 'HEADERS_TOO_LARGE'
  | 'REQUEST_TIMEOUT'
  | 'JSON_TOO_DEEP'
  | 'BATCH_TOO_LARGE'
  | 'BATCH_NOT_SUPPORTED'
  | 'UNSUPPORTED_MEDIA_TYPE'
  | 'NOT_ACCEPTABLE'
  | 'UNSUPPORTED_PROTOCOL_VERSION'
  | 'HEADER_MISMATCH'
  | 'ORIGIN_NOT_ALLOWED'
  | 'METHOD_NOT_ALLOWED'
  | 'SESSION_REQUIRED'
  | 'SESSION_NOT_FOUND'
  | 'TOO_MANY_OUTSTANDING'
  | 'POLICY_DENIED'
  | 'AUDIT_UNAVAILABLE'
  | 'UPSTREAM_UNAVAILABLE'
  | 'UPSTREAM_AT_CAPACITY'
  | 'UPSTREAM_TIMEOUT'
  | 'UPSTREAM_PROTOCOL'
  | 'UPSTREAM_CREDENTIAL_MISSING'
  | 'UPSTREAM_CREDENTIAL_UNAVAILABLE'
  | 'INTERNAL';

export interface ErrorSpec {
  readonly httpStatus: number;
  readonly jsonRpcCode: number;
  readonly message: string;
}

export const ERROR_SPECS: Readonly<Record<ProxyErrorCode, ErrorSpec>> = {
  PARSE_ERROR: { httpStatus: 400, jsonRpcCode: -32700, message: 'Parse error' },
  INVALID_REQUEST: { httpStatus: 400, jsonRpcCode: -32600, message: 'Invalid Request' },
  INVALID_PARAMS: { httpStatus: 400, jsonRpcCode: -32602, message: 'Invalid params' },
  BODY_TOO_LARGE: { httpStatus: 413, jsonRpcCode: -32600, message: 'Request body too large' },
  HEADERS_TOO_LARGE: { httpStatus: 431, jsonRpcCode: -32600, message: 'Request headers too large' },
  REQUEST_TIMEOUT: { httpStatus: 408, jsonRpcCode: -32600, message: 'Request not received in time' },
  JSON_TOO_DEEP: { httpStatus: 400, jsonRpcCode: -32600, message: 'JSON nested too deeply' },
  BATCH_TOO_LARGE: { httpStatus: 400, jsonRpcCode: -32600, message: 'Batch too large' },
  BATCH_NOT_SUPPORTED: {
    httpStatus: 400,
    jsonRpcCode: -32600,
    message: 'JSON-RPC batches are not supported in this protocol revision',
  },
  UNSUPPORTED_MEDIA_TYPE: {
    httpStatus: 415,
    jsonRpcCode: -32600,
    message: 'Content-Type must be application/json (UTF-8)',
  },
  NOT_ACCEPTABLE: {
    httpStatus: 406,
    jsonRpcCode: -32600,
    message: 'Accept must include application/json and text/event-stream',
  },
  UNSUPPORTED_PROTOCOL_VERSION: {
    httpStatus: 400,
    jsonRpcCode: -32600,
    message: 'Unsupported MCP-Protocol-Version',
  },
  HEADER_MISMATCH: {
    httpStatus: 400,
    jsonRpcCode: -32020,
    message: 'Mcp-Method or Mcp-Name header does not match the body',
  },
  ORIGIN_NOT_ALLOWED: { httpStatus: 403, jsonRpcCode: -32600, message: 'Origin not allowed' },
  METHOD_NOT_ALLOWED: { httpStatus: 405, jsonRpcCode: -32600, message: 'Method not allowed' },
  SESSION_REQUIRED: { httpStatus: 400, jsonRpcCode: -32600, message: 'Mcp-Session-Id header required' },
  SESSION_NOT_FOUND: { httpStatus: 404, jsonRpcCode: -32001, message: 'Session not found' },
  TOO_MANY_OUTSTANDING: {
    httpStatus: 429,
    jsonRpcCode: -32004,
    message: 'Too many list requests awaiting an answer in this session',
  },
  POLICY_DENIED: { httpStatus: 200, jsonRpcCode: -32003, message: 'Forbidden by policy' },
  AUDIT_UNAVAILABLE: { httpStatus: 503, jsonRpcCode: -32603, message: 'Audit unavailable; call refused' },
  UPSTREAM_UNAVAILABLE: { httpStatus: 502, jsonRpcCode: -32603, message: 'Upstream MCP server unavailable' },
  UPSTREAM_AT_CAPACITY: {
    httpStatus: 503,
    jsonRpcCode: -32603,
    message: 'Upstream MCP server at capacity; try again later',
  },
  UPSTREAM_TIMEOUT: { httpStatus: 504, jsonRpcCode: -32603, message: 'Upstream MCP server timed out' },
  UPSTREAM_PROTOCOL: {
    httpStatus: 502,
    jsonRpcCode: -32603,
    message: 'Upstream MCP server sent an invalid reply',
  },
  UPSTREAM_CREDENTIAL_MISSING: {
    httpStatus: 200,
    jsonRpcCode: -32005,
    message: 'No upstream credential for this caller',
  },
  UPSTREAM_CREDENTIAL_UNAVAILABLE: {
    httpStatus: 502,
    jsonRpcCode: -32603,
    message: 'Upstream credential unavailable',
  },
  INTERNAL: { httpStatus: 500, jsonRpcCode: -32603, message: 'Internal error' },
};

export class ProxyError extends Error {
  readonly code: ProxyErrorCode;
  readonly detail: string | undefined;

  constructor(code: ProxyErrorCode, detail?: string, options?: { cause?: unknown }) {
    super(detail ? `${ERROR_SPECS[code].message}: ${detail}` : ERROR_SPECS[code].message, options);
    this.name = 'ProxyError';
    this.code = code;
    this.detail = detail;
  }
}

export type JsonRpcId = string | number | null;

export interface JsonRpcErrorMessage {
  jsonrpc: '2.0';
  id: JsonRpcId;
  error: { code: number; message: string; data?: Record<string, unknown> };
}

/** The JSON-RPC error object a client sees for a code; `data` carries only what the client may know. */
export function jsonRpcError(
  code: ProxyErrorCode,
  id: JsonRpcId,
  data?: Record<string, unknown>,
): JsonRpcErrorMessage {
  const spec = ERROR_SPECS[code];
  const error: JsonRpcErrorMessage['error'] = { code: spec.jsonRpcCode, message: spec.message };
  if (data) error.data = data;
  return { jsonrpc: '2.0', id, error };
}
