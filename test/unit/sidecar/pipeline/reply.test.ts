import { describe, expect, it } from 'vitest';
import type { Principal } from '../../../../sidecar/src/contract/principal.ts';
import type { PolicyPort } from '../../../../sidecar/src/pipeline/ports.ts';
import {
  inspectReply,
  type ReplyContext,
  type ReplyResult,
  type ServerMessage,
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

/**
 * A context whose exchange sent the requests `own`; `filterIds` are its list requests; `audits`
 * false plays an auditor that cannot record (failureMode closed).
 */
function context(filterIds: [string | number, string][] = [], own: (string | number)[] = [1], audits = true) {
  const answered: [string | number, ReplyResult][] = [];
  const others: ServerMessage[] = [];
  const ctx: ReplyContext = {
    principal,
    policy,
    filterIds: new Map(filterIds),
    answered(id, r) {
      if (!own.includes(id)) return false;
      answered.push([id, r]);
      return true;
    },
    other(m) {
      if (audits) others.push(m);
      return audits;
    },
  };
  return { ctx, answered, others };
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

  it("leaves the exchange's other replies byte for byte (undefined)", () => {
    const { ctx } = context([[1, 'tools/list']], [1, 2]);
    expect(inspectReply(ctx, list(2, ['no-b']))).toBeUndefined();
  });

  it('filters by its shape a list the exchange did not ask for (a replayed answer) and records it', () => {
    const { ctx, answered, others } = context([], []);
    const out = JSON.parse(inspectReply(ctx, list(7, ['ok-a', 'no-b'])) as string);
    expect(out.result.tools).toEqual([{ name: 'ok-a' }]);
    expect(answered).toEqual([]);
    expect(others).toEqual([{ kind: 'response', method: 'response', id: 7, result: { isError: false } }]);
  });

  it('filters each element of a batch reply', () => {
    const { ctx } = context([[1, 'tools/list']], [1, 2]);
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

  it('hands on notifications and requests from the server, bounded, one each', () => {
    const { ctx, answered, others } = context([[1, 'tools/list']]);
    const long = 'x'.repeat(10_000);
    for (const text of [
      '{"jsonrpc":"2.0","method":"notifications/progress","params":{"progress":1}}',
      '{"jsonrpc":"2.0","id":9,"method":"sampling/createMessage"}',
      `{"jsonrpc":"2.0","id":"${long}","method":"${long}"}`,
    ]) {
      expect(inspectReply(ctx, text)).toBeUndefined();
    }
    expect(answered).toEqual([]);
    expect(others).toEqual([
      { kind: 'notification', method: 'notifications/progress' },
      { kind: 'request', method: 'sampling/createMessage', id: 9 },
      { kind: 'request', method: 'x'.repeat(128), id: 'x'.repeat(128) },
    ]);
  });

  it('does not pass on what is not JSON, and records it as failed', () => {
    const { ctx, others } = context();
    expect(inspectReply(ctx, 'not json')).toBe('');
    expect(others).toEqual([{ method: 'invalid', failure: 'server sent data that is not JSON' }]);
  });

  it('passes JSON that is no JSON-RPC message on, and records it as failed', () => {
    const { ctx, others } = context();
    expect(inspectReply(ctx, '{"jsonrpc":"2.0","x":1}')).toBeUndefined();
    expect(others).toEqual([{ method: 'invalid', failure: 'not a JSON-RPC message' }]);
  });

  it('does not pass on what cannot be audited (failureMode closed), but still its own answers', () => {
    const { ctx, answered } = context([], [1], false);
    const note = '{"jsonrpc":"2.0","method":"notifications/progress"}';
    const own = '{"jsonrpc":"2.0","id":1,"result":{}}';
    expect(inspectReply(ctx, note)).toBe('');
    expect(inspectReply(ctx, list(7, ['ok']))).toBe('');
    expect(inspectReply(ctx, own)).toBeUndefined();
    expect(JSON.parse(inspectReply(ctx, `[${note},${own}]`) as string)).toEqual([JSON.parse(own)]);
    expect(answered.map(([id]) => id)).toEqual([1, 1]);
  });
});
