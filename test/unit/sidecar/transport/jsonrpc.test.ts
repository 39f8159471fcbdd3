import { describe, expect, it } from 'vitest';
import { classify, parseJsonRpc } from '../../../../sidecar/src/transport/jsonrpc.ts';

const limits = { maxJsonDepth: 8, maxBatchSize: 3 };

describe('classify', () => {
  it.each([
    ['request', { jsonrpc: '2.0', id: 1, method: 'ping' }, { kind: 'request', id: 1, method: 'ping' }],
    ['notification', { jsonrpc: '2.0', method: 'notifications/initialized' }, { kind: 'notification' }],
    ['result response', { jsonrpc: '2.0', id: 'a', result: {} }, { kind: 'response', isError: false }],
    [
      'error response',
      { jsonrpc: '2.0', id: null, error: { code: 1, message: 'x' } },
      { kind: 'response', isError: true },
    ],
  ])('accepts a %s', (_name, input, expected) => {
    expect(classify(input)).toMatchObject(expected);
  });

  it.each([
    ['an array', []],
    ['no jsonrpc', { id: 1, method: 'ping' }],
    ['empty method', { jsonrpc: '2.0', id: 1, method: '' }],
    ['null id on a request', { jsonrpc: '2.0', id: null, method: 'ping' }],
    ['boolean id', { jsonrpc: '2.0', id: true, method: 'ping' }],
    ['params not an object', { jsonrpc: '2.0', id: 1, method: 'ping', params: 'x' }],
    ['neither method nor result', { jsonrpc: '2.0', id: 1 }],
  ])('rejects %s', (_name, input) => {
    expect(typeof classify(input)).toBe('string');
  });
});

describe('members a case-insensitive parser reads as decided-on ones', () => {
  it.each([
    [
      'a "response" that Go reads as a tools/call',
      {
        jsonrpc: '2.0',
        id: 7,
        error: { code: 1, message: 'x' },
        Method: 'tools/call',
        Params: { name: 'get-env' },
      },
    ],
    ['a lone Method beside no method', { jsonrpc: '2.0', id: 1, Method: 'tools/call' }],
    [
      'Arguments beside name',
      {
        jsonrpc: '2.0',
        id: 8,
        method: 'tools/call',
        params: { name: 'echo', Arguments: { message: 'forbidden' } },
      },
    ],
    ['an uppercase URI alone', { jsonrpc: '2.0', id: 9, method: 'resources/read', params: { URI: 'a://c' } }],
    [
      'a long-s spelling of cursor',
      { jsonrpc: '2.0', id: 9, method: 'tools/list', params: { 'cur\u017for': 'x' } },
    ],
  ])('refuses %s', (_name, message) => {
    expect(parseJsonRpc(JSON.stringify(message), limits)).toMatchObject({
      ok: false,
      code: 'INVALID_REQUEST',
      detail: expect.stringMatching(/reads as/),
    });
  });

  it('names the batch element', () => {
    const batch = [
      { jsonrpc: '2.0', id: 1, method: 'ping' },
      { jsonrpc: '2.0', id: 2, method: 'tools/call', params: { name: 'e', Arguments: {} } },
    ];
    expect(parseJsonRpc(JSON.stringify(batch), limits)).toEqual({
      ok: false,
      code: 'INVALID_REQUEST',
      id: 2,
      detail: 'batch element 1: member "Arguments" reads as "arguments"',
    });
  });

  it('refuses two requests under one id in a batch', () => {
    const batch = [
      { jsonrpc: '2.0', id: 3, method: 'tools/list' },
      { jsonrpc: '2.0', method: 'notifications/initialized' },
      { jsonrpc: '2.0', id: 3, method: 'prompts/list' },
    ];
    expect(parseJsonRpc(JSON.stringify(batch), limits)).toEqual({
      ok: false,
      code: 'INVALID_REQUEST',
      id: null,
      detail: 'batch element 2: id 3 is the id of element 0',
    });
  });

  it('tells a string id from a number id', () => {
    const batch = [
      { jsonrpc: '2.0', id: 3, method: 'tools/list' },
      { jsonrpc: '2.0', id: '3', method: 'prompts/list' },
    ];
    expect(parseJsonRpc(JSON.stringify(batch), limits)).toMatchObject({ ok: true });
  });

  it('refuses an earlier invalid element first', () => {
    const batch = [
      { jsonrpc: '1.0', id: 1, method: 'ping' },
      { jsonrpc: '2.0', id: 2, Method: 'tools/call' },
    ];
    expect(parseJsonRpc(JSON.stringify(batch), limits)).toMatchObject({ id: 1, detail: /jsonrpc must be/ });
  });

  it('accepts members no decision reads, whatever their case', () => {
    const message = {
      jsonrpc: '2.0',
      id: 1,
      method: 'tools/call',
      params: { name: 'e', Task: {}, extra: 1 },
    };
    expect(parseJsonRpc(JSON.stringify(message), limits)).toMatchObject({
      ok: true,
      messages: [{ kind: 'request' }],
    });
  });
});

describe('parseJsonRpc', () => {
  it.each([
    ['syntax error', '{', 'PARSE_ERROR', null],
    [
      'too deep',
      `{"jsonrpc":"2.0","id":1,"method":"x","params":{"a":${'['.repeat(10)}${']'.repeat(10)}}}`,
      'JSON_TOO_DEEP',
      null,
    ],
    ['empty batch', '[]', 'INVALID_REQUEST', null],
    [
      'batch too large',
      JSON.stringify(Array(4).fill({ jsonrpc: '2.0', method: 'n' })),
      'BATCH_TOO_LARGE',
      null,
    ],
    ['invalid element keeps its id', '[{"jsonrpc":"2.0","id":7,"method":1}]', 'INVALID_REQUEST', 7],
    [
      'invalid single message keeps its id',
      '{"jsonrpc":"1.0","id":"x","method":"ping"}',
      'INVALID_REQUEST',
      'x',
    ],
    [
      'a member that differs from a decided one only in case keeps its id',
      '{"jsonrpc":"2.0","id":3,"method":"ping","Method":"tools/call"}',
      'INVALID_REQUEST',
      3,
    ],
    [
      'a duplicate member',
      '{"jsonrpc":"2.0","id":4,"method":"tools/call","params":{"name":"echo","name":"get-env"}}',
      'INVALID_REQUEST',
      4,
    ],
    ['ambiguous but not JSON is a parse error', '{"a":1,"a":2', 'PARSE_ERROR', null],
  ])('%s -> %s', (_name, text, code, id) => {
    const r = parseJsonRpc(text, limits);
    expect(r).toMatchObject({ ok: false, code, id });
  });

  it('parses a batch into classified messages', () => {
    const r = parseJsonRpc('[{"jsonrpc":"2.0","id":1,"method":"a"},{"jsonrpc":"2.0","method":"b"}]', limits);
    expect(r.ok && r.batch && r.messages.map((m) => m.kind)).toEqual(['request', 'notification']);
  });
});
