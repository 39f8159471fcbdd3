import { describe, expect, it } from 'vitest';
import { clientErrorCode, clientErrorRecord } from '../../../../sidecar/src/server/client-errors.ts';

describe('requests refused by the HTTP parser', () => {
  it.each([
    ['ERR_HTTP_REQUEST_TIMEOUT', 'REQUEST_TIMEOUT'],
    ['HPE_HEADER_OVERFLOW', 'HEADERS_TOO_LARGE'],
    ['HPE_INVALID_TRANSFER_ENCODING', 'INVALID_REQUEST'],
    [undefined, 'INVALID_REQUEST'],
  ])('maps %s to %s', (nodeCode, code) => {
    expect(clientErrorCode(nodeCode)).toBe(code);
  });

  it('records the refusal with a status, Node’s code (bounded) and nothing the caller sent', () => {
    const source = { address: '10.0.0.1', port: 4000 };
    expect(clientErrorRecord('HPE_HEADER_OVERFLOW', source, 'streamable-http', 5)).toEqual({
      startedAt: 5,
      outcome: 'failed',
      transport: 'streamable-http',
      httpMethod: 'unknown',
      source,
      method: 'http',
      httpStatus: 431,
      errorCode: 'HEADERS_TOO_LARGE',
      reason: 'refused by the HTTP parser: HPE_HEADER_OVERFLOW',
      latencyMs: 0,
      ownLatencyMs: 0,
    });
    expect(clientErrorRecord('X'.repeat(500), source, 'sse').reason).toHaveLength(
      'refused by the HTTP parser: '.length + 64,
    );
  });
});
