import { describe, expect, it } from 'vitest';
import type { Principal } from '../../../../sidecar/src/authn/principal.ts';
import type { PolicyPort } from '../../../../sidecar/src/pipeline/ports.ts';
import {
  inspectReply,
  mayBeResponse,
  type ReplyContext,
  type ReplyResult,
} from '../../../../sidecar/src/pipeline/reply.ts';

// A policy that keeps list items whose name starts with "ok".
const policy: PolicyPort = {
  decide: () => ({ effect: 'allow', reason: 'test' }),
  filtersReplies: (m) => m === 'tools/list',
  filterResult: (_p, _m, result) => {
    const r = result as { tools: { name: string }[] };
    return { ...r, tools: r.tools.filter((t) => t.name.startsWith('ok')) };
  },
};
const principal: Principal = {
  subject: 'a',
  name: 'a',
  groups: [],
  method: 'api-key',
  scopes: [],
  claims: {},
};

function context(filterIds: [string | number, string][] = []) {
  const answered: [string | number, ReplyResult][] = [];
  const ctx: ReplyContext = {
    principal,
    policy,
    filterIds: new Map(filterIds),
    answered: (id, r) => void answered.push([id, r]),
  };
  return { ctx, answered };
}

const list = (id: number, names: string[], nextCursor?: string) =>
  JSON.stringify({
    jsonrpc: '2.0',
    id,
    result: { tools: names.map((name) => ({ name })), ...(nextCursor ? { nextCursor } : {}) },
  });

describe('inspectReply', () => {
  it('filters a list reply and keeps its cursor', () => {
    const { ctx } = context([[1, 'tools/list']]);
    const out = JSON.parse(inspectReply(ctx, list(1, ['ok-a', 'no-b', 'ok-c'], 'page2')) as string);
    expect(out).toEqual({
      jsonrpc: '2.0',
      id: 1,
      result: { tools: [{ name: 'ok-a' }, { name: 'ok-c' }], nextCursor: 'page2' },
    });
  });

  it('leaves replies to other requests byte for byte (undefined)', () => {
    const { ctx } = context([[1, 'tools/list']]);
    expect(inspectReply(ctx, list(2, ['no-b']))).toBeUndefined();
  });

  it('filters each element of a batch reply', () => {
    const { ctx } = context([[1, 'tools/list']]);
    const out = JSON.parse(
      inspectReply(ctx, `[${list(1, ['no', 'ok'])},{"jsonrpc":"2.0","id":2,"result":{}}]`) as string,
    );
    expect(out[0].result.tools).toEqual([{ name: 'ok' }]);
    expect(out[1]).toEqual({ jsonrpc: '2.0', id: 2, result: {} });
  });

  it.each([
    ['a result', '{"jsonrpc":"2.0","id":1,"result":{}}', { isError: false }],
    ['a tool error', '{"jsonrpc":"2.0","id":1,"result":{"isError":true}}', { isError: true }],
    [
      'a JSON-RPC error',
      '{"jsonrpc":"2.0","id":1,"error":{"code":-32602,"message":"bad"}}',
      { isError: true, errorCode: -32602, errorMessage: 'bad' },
    ],
  ])('notes the outcome of %s', (_name, text, expected) => {
    const { ctx, answered } = context();
    inspectReply(ctx, text);
    expect(answered).toEqual([[1, expected]]);
  });

  it('ignores notifications, requests from the server and garbage', () => {
    const { ctx, answered } = context([[1, 'tools/list']]);
    for (const text of [
      '{"jsonrpc":"2.0","method":"notifications/progress"}',
      '{"jsonrpc":"2.0","id":9,"method":"sampling/createMessage"}',
      'not json',
    ]) {
      expect(inspectReply(ctx, text)).toBeUndefined();
    }
    expect(answered).toEqual([]);
  });

  it('pre-checks cheaply whether text may be a response', () => {
    expect(mayBeResponse('{"jsonrpc":"2.0","method":"x"}')).toBe(false);
    expect(mayBeResponse('{"result":{}}')).toBe(true);
  });
});
