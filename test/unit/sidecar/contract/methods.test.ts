import { describe, expect, it } from 'vitest';
import { classifyMethod, listMethodsOfResult, targetOf } from '../../../../sidecar/src/contract/methods.ts';

describe('classifyMethod', () => {
  it.each([
    ['initialize', 'open'],
    ['server/discover', 'open'],
    ['subscriptions/listen', 'subscriptions'],
    ['ping', 'open'],
    ['logging/setLevel', 'open'],
    ['notifications/initialized', 'open'],
    ['notifications/cancelled', 'open'],
    ['tools/call', 'target'],
    ['resources/read', 'target'],
    ['resources/subscribe', 'target'],
    ['resources/unsubscribe', 'target'],
    ['prompts/get', 'target'],
    ['completion/complete', 'completion'],
    ['tools/list', 'list'],
    ['prompts/list', 'list'],
    ['resources/list', 'list'],
    ['resources/templates/list', 'list'],
    ['sampling/createMessage', 'unknown'],
    ['roots/list', 'unknown'],
    ['tools/delete', 'unknown'],
    ['notifications/', 'unknown'],
    ['', 'unknown'],
    ['__proto__', 'unknown'],
  ])('%s is %s', (method, kind) => {
    expect(classifyMethod(method).kind).toBe(kind);
  });
});

describe('targetOf', () => {
  it.each([
    {
      method: 'tools/call',
      params: { name: 'search', arguments: { q: 1 } },
      expected: { tool: 'search', arguments: { q: 1 } },
    },
    { method: 'tools/call', params: { name: 7 }, expected: { tool: undefined, arguments: undefined } },
    { method: 'resources/read', params: { uri: 'file:///a' }, expected: { resource: 'file:///a' } },
    {
      method: 'subscriptions/listen',
      params: {
        notifications: { toolsListChanged: true, resourceSubscriptions: ['file:///a', 'file:///b'] },
      },
      expected: { subscriptions: ['file:///a', 'file:///b'] },
    },
    {
      method: 'subscriptions/listen',
      params: { notifications: { toolsListChanged: true } },
      expected: { subscriptions: [] },
    },
    {
      method: 'subscriptions/listen',
      params: { notifications: { resourceSubscriptions: [1] } },
      expected: {},
    },
    {
      method: 'prompts/get',
      params: { name: 'p', arguments: { a: 'b' } },
      expected: { prompt: 'p', arguments: { a: 'b' } },
    },
    {
      method: 'completion/complete',
      params: { ref: { type: 'ref/prompt', name: 'p' }, argument: { name: 'x', value: 'y' } },
      expected: { prompt: 'p', arguments: { name: 'x', value: 'y' } },
    },
    {
      method: 'completion/complete',
      params: { ref: { type: 'ref/resource', uri: 'repo://{id}' } },
      expected: { resource: 'repo://{id}', arguments: undefined },
    },
    { method: 'initialize', params: { protocolVersion: '2025-06-18' }, expected: {} },
    { method: 'tools/call', params: null, expected: { tool: undefined, arguments: undefined } },
  ])('$method $params', ({ method, params, expected }) => {
    expect(targetOf(method, params)).toEqual(expected);
  });
});

describe('listMethodsOfResult', () => {
  it.each([
    [{ tools: [], nextCursor: 'c' }, ['tools/list']],
    [{ prompts: [] }, ['prompts/list']],
    [{ resources: [{ uri: 'a://b' }] }, ['resources/list']],
    [{ resourceTemplates: [] }, ['resources/templates/list']],
    [{ resources: [], resourceTemplates: [] }, ['resources/list', 'resources/templates/list']],
    [{ content: [{ type: 'text', text: 'x' }] }, []],
    [{ capabilities: { tools: {} }, protocolVersion: '2025-06-18' }, []],
    [{ tools: 'not a list' }, []],
    [null, []],
  ])('names every list a result looks like: %j', (result, methods) => {
    expect(listMethodsOfResult(result)).toEqual(methods);
  });
});
