import { describe, expect, it } from 'vitest';
import {
  batchesAllowed,
  checkContentType,
  checkMirroredHeaders,
  checkOrigin,
  checkProtocolVersion,
  compileOriginPolicy,
  decodeMcpHeaderValue,
} from '../../../../sidecar/src/transport/headers.ts';
import type { ClientMessage } from '../../../../sidecar/src/transport/jsonrpc.ts';

const call = (name: string): ClientMessage => ({
  kind: 'request',
  id: 1,
  method: 'tools/call',
  params: { name },
});
const read = (uri: string): ClientMessage => ({
  kind: 'request',
  id: 1,
  method: 'resources/read',
  params: { uri },
});

describe('checkContentType', () => {
  it.each([
    'application/json',
    'application/json; charset=utf-8',
    'Application/JSON;charset="UTF-8"',
    'application/json; foo=bar',
  ])('accepts %s', (v) => {
    expect(checkContentType(v)).toEqual({ ok: true });
  });

  it.each([
    [undefined, 'missing'],
    ['text/plain', 'text/plain'],
    ['application/jsonx', 'application/jsonx'],
    ['application/json-seq', 'application/json-seq'],
    // body-parser decodes these with iconv: +AGc-et-env becomes get-env
    ['application/json; charset=utf-7', 'utf-7'],
    ['application/json; charset=utf-16le', 'utf-16le'],
    ['application/json; charset=latin1', 'latin1'],
    // the first charset is this parser's, the last is body-parser's
    ['application/json; charset=utf-8; charset=utf-7', 'more than once'],
    ['application/json; charset=utf-8; charset=utf-8', 'more than once'],
    ['not a media type', 'does not parse'],
  ])('refuses %s with 415', (v, detail) => {
    const check = checkContentType(v);
    expect(check).toMatchObject({ ok: false, code: 'UNSUPPORTED_MEDIA_TYPE' });
    expect(check.ok || check.detail).toContain(detail);
  });
});

describe('checkProtocolVersion', () => {
  it.each([undefined, '2025-03-26', '2025-06-18', '2025-11-25', '2026-07-28'])('accepts %s', (v) => {
    expect(checkProtocolVersion(v).ok).toBe(true);
  });
  it.each(['2099-01-01', 'latest', ''])('refuses %s', (v) => {
    expect(checkProtocolVersion(v)).toMatchObject({ ok: false, code: 'UNSUPPORTED_PROTOCOL_VERSION' });
  });
  it('allows batches only up to 2025-03-26', () => {
    expect([undefined, '2025-03-26', '2025-06-18', '2026-07-28'].map(batchesAllowed)).toEqual([
      true,
      true,
      false,
      false,
    ]);
  });
});

describe('checkMirroredHeaders', () => {
  it.each([
    ['no headers', undefined, undefined, [call('echo')], true],
    ['matching method and name', 'tools/call', 'echo', [call('echo')], true],
    ['matching resource uri', 'resources/read', 'file:///a b', [read('file:///a b')], true],
    [
      'base64-encoded name',
      'tools/call',
      `=?base64?${Buffer.from('échо').toString('base64')}?=`,
      [call('échо')],
      true,
    ],
    ['method differs', 'tools/list', undefined, [call('echo')], false],
    ['name differs', 'tools/call', 'other', [call('echo')], false],
    [
      'name on a method without one',
      undefined,
      'x',
      [{ kind: 'request', id: 1, method: 'ping', params: undefined } as ClientMessage],
      false,
    ],
    ['headers with a batch', 'tools/call', undefined, [call('a'), call('b')], false],
  ] as const)('%s', (_name, method, name, messages, ok) => {
    expect(checkMirroredHeaders(method, name, messages as readonly ClientMessage[]).ok).toBe(ok);
  });

  it('decodes only sentinel-wrapped values', () => {
    expect(decodeMcpHeaderValue('plain')).toBe('plain');
    expect(decodeMcpHeaderValue('=?base64?aGk=?=')).toBe('hi');
  });
});

describe('checkOrigin', () => {
  const loopback = compileOriginPolicy(undefined, 'http://127.0.0.1:8080/mcp', '127.0.0.1');
  const cluster = compileOriginPolicy(undefined, 'https://mcp.example.com/mcp', '0.0.0.0');
  const listed = compileOriginPolicy(['https://app.example'], 'https://mcp.example.com/mcp', '0.0.0.0');
  const wildcard = compileOriginPolicy(['*'], 'https://mcp.example.com/mcp', '0.0.0.0');
  it.each([
    ['no Origin (non-browser client)', undefined, '127.0.0.1:8080', loopback, true],
    ['loopback origin', 'http://localhost:3000', '127.0.0.1:8080', loopback, true],
    ['IPv6 loopback host', undefined, '[::1]:8080', loopback, true],
    ['rebinding: foreign Host on loopback', 'http://evil.example', 'evil.example:8080', loopback, false],
    ['foreign Host on loopback without Origin', undefined, 'evil.example', loopback, false],
    ['cross origin, no list', 'https://evil.example', 'mcp.example.com', cluster, false],
    ['own canonical origin, no list', 'https://mcp.example.com', 'mcp.example.com', cluster, true],
    ['in-cluster Host names are not checked', undefined, 'svc.ns.svc', cluster, true],
    ['listed origin', 'https://app.example', 'mcp.example.com', listed, true],
    ['unlisted origin', 'https://other.example', 'mcp.example.com', listed, false],
    ['wildcard', 'https://any.example', 'mcp.example.com', wildcard, true],
    ['garbage origin', 'not a url', 'mcp.example.com', cluster, false],
  ])('%s', (_name, origin, host, policy, ok) => {
    expect(checkOrigin(origin, host, policy).ok).toBe(ok);
  });
});
