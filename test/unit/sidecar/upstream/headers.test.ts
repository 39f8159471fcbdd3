import { describe, expect, it } from 'vitest';
import {
  clientResponseHeaders,
  clientStatus,
  upstreamMessageHeaders,
  upstreamRequestHeaders,
} from '../../../../sidecar/src/upstream/headers.ts';

// What of a request reaches the upstream, and what of its reply reaches the client.

describe('upstreamRequestHeaders', () => {
  it("forwards MCP and trace headers, never the caller's credentials or Mcp-Param-*, and injects the sidecar's own", () => {
    const out = upstreamRequestHeaders(
      {
        authorization: 'Bearer caller-token',
        'x-api-key': 'caller-key',
        cookie: 'session=1',
        'content-type': 'application/json',
        'mcp-session-id': 's-1',
        'mcp-param-path': '/tmp',
        traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01',
      },
      { authorization: 'Bearer sidecar-token' },
    );
    expect(out).toEqual({
      authorization: 'Bearer sidecar-token',
      'mcp-session-id': 's-1',
      traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01',
    });
  });
});

describe('upstreamMessageHeaders', () => {
  it("declares the rebuilt message JSON in UTF-8, whatever charset the caller's header named", () => {
    const out = upstreamMessageHeaders(
      {
        'content-type': 'application/json; charset=utf-7',
        'content-length': '99',
        accept: 'application/json',
      },
      {},
    );
    expect(out).toEqual({ 'content-type': 'application/json', accept: 'application/json' });
  });
});

describe('the reply the client sees', () => {
  it('keeps MCP headers only', () => {
    expect(
      clientResponseHeaders({
        'content-type': 'text/event-stream',
        'mcp-session-id': 's-1',
        'set-cookie': ['a=1'],
      }),
    ).toEqual({ 'content-type': 'text/event-stream', 'mcp-session-id': 's-1' });
  });

  it.each([
    [200, 200],
    [202, 202],
    [400, 400],
    [404, 404],
    [401, 502], // the upstream refused the sidecar's credentials: a gateway fault, not the caller's
    [403, 502],
    [500, 500],
  ])('answers upstream %i with %i', (upstream, client) => {
    expect(clientStatus(upstream)).toBe(client);
  });
});
