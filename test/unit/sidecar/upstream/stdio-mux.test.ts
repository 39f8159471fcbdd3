import type { JSONRPCMessage } from '@modelcontextprotocol/sdk/types.js';
import { describe, expect, it } from 'vitest';
import { type SessionKey, SessionMux } from '../../../../sidecar/src/upstream/stdio-mux.ts';

// The shared mode's mux, message by message: what the process sees and what each session gets.

const initialize = (id: number, capabilities: Record<string, unknown> = { sampling: {}, elicitation: {} }) =>
  ({
    jsonrpc: '2.0',
    id,
    method: 'initialize',
    params: { protocolVersion: '2025-06-18', capabilities, clientInfo: { name: 't', version: '1' } },
  }) as JSONRPCMessage;
const INIT_RESULT = {
  protocolVersion: '2025-06-18',
  capabilities: { tools: { listChanged: true } },
  serverInfo: {},
};

/** A mux with `n` initialized sessions (the first one's initialize went to the process). */
function initialized(n: number): { mux: SessionMux; keys: SessionKey[] } {
  const mux = new SessionMux();
  const keys = Array.from({ length: n }, () => mux.open());
  const [first, ...rest] = keys as [SessionKey, ...SessionKey[]];
  const sent = mux.fromClient(first, initialize(0)).toServer[0] as { id: number };
  mux.fromServer({ jsonrpc: '2.0', id: sent.id, result: INIT_RESULT });
  for (const k of [first, ...rest]) {
    if (k !== first) mux.fromClient(k, initialize(0));
    mux.fromClient(k, { jsonrpc: '2.0', method: 'notifications/initialized' });
  }
  return { mux, keys };
}

const call = (id: number | string, extra: Record<string, unknown> = {}): JSONRPCMessage => ({
  jsonrpc: '2.0',
  id,
  method: 'tools/call',
  params: { name: 'echo', arguments: {}, ...extra },
});

describe('SessionMux', () => {
  it('initializes the process once and replays its answer to later sessions, also to those that asked meanwhile', () => {
    const mux = new SessionMux();
    const [a, b, c] = [mux.open(), mux.open(), mux.open()];
    const first = mux.fromClient(a, initialize(1));
    expect(first.toServer).toHaveLength(1);
    expect(mux.fromClient(b, initialize(1))).toEqual({ toSessions: [], toServer: [] });
    const id = (first.toServer[0] as { id: number }).id;
    const answered = mux.fromServer({ jsonrpc: '2.0', id, result: INIT_RESULT });
    expect(answered.toSessions.map((d) => [d.session, d.msg])).toEqual([
      [b, { jsonrpc: '2.0', id: 1, result: INIT_RESULT }],
      [a, { jsonrpc: '2.0', id: 1, result: INIT_RESULT }],
    ]);
    expect(mux.fromClient(c, initialize(9)).toSessions[0]?.msg).toEqual({
      jsonrpc: '2.0',
      id: 9,
      result: INIT_RESULT,
    });
    const initializedOnce = [a, b, c].flatMap(
      (k) => mux.fromClient(k, { jsonrpc: '2.0', method: 'notifications/initialized' }).toServer,
    );
    expect(initializedOnce).toHaveLength(1);
  });

  it('tells the process of sampling and elicitation, never roots, whatever the first client declared', () => {
    const mux = new SessionMux();
    const routed = mux.fromClient(
      mux.open(),
      initialize(1, { roots: { listChanged: true }, experimental: {} }),
    );
    expect(routed.toServer[0]).toMatchObject({
      method: 'initialize',
      params: { capabilities: { sampling: {}, elicitation: {} }, clientInfo: { name: 't', version: '1' } },
    });
    expect(routed.toServer[0]).not.toHaveProperty('params.capabilities.roots');
  });

  it("refuses a server request the busy session's client did not declare", () => {
    const mux = new SessionMux();
    const a = mux.open();
    const init = mux.fromClient(a, initialize(0, { roots: {} })).toServer[0] as { id: number };
    mux.fromServer({ jsonrpc: '2.0', id: init.id, result: INIT_RESULT });
    mux.fromClient(a, call(1));
    const sampling = mux.fromServer({ jsonrpc: '2.0', id: 7, method: 'sampling/createMessage', params: {} });
    expect(sampling).toEqual({
      toSessions: [],
      toServer: [
        {
          jsonrpc: '2.0',
          id: 7,
          error: { code: -32601, message: "The session's client does not support this request" },
        },
      ],
    });
    expect(mux.fromServer({ jsonrpc: '2.0', id: 8, method: 'roots/list' }).toSessions[0]?.session).toBe(a);
  });

  it('gives colliding ids distinct ids in the process and each reply back to its own session', () => {
    const { mux, keys } = initialized(2);
    const [a, b] = keys as [SessionKey, SessionKey];
    const sa = mux.fromClient(a, call(5)).toServer[0] as { id: number };
    const sb = mux.fromClient(b, call(5)).toServer[0] as { id: number };
    expect(sa.id).not.toBe(sb.id);
    const rb = mux.fromServer({ jsonrpc: '2.0', id: sb.id, result: { who: 'b' } });
    expect(rb.toSessions).toEqual([{ session: b, msg: { jsonrpc: '2.0', id: 5, result: { who: 'b' } } }]);
    // A duplicate id within one session is refused, not sent.
    const dup = mux.fromClient(a, call(5));
    expect(dup.toServer).toEqual([]);
    expect(dup.toSessions[0]?.msg).toMatchObject({ id: 5, error: { code: -32600 } });
    // A reply to an id nobody holds goes nowhere.
    expect(mux.fromServer({ jsonrpc: '2.0', id: 999, result: {} }).toSessions).toEqual([]);
  });

  it('keeps "1" and 1 apart', () => {
    const { mux, keys } = initialized(1);
    const [a] = keys as [SessionKey];
    const n = mux.fromClient(a, call(1)).toServer[0] as { id: number };
    const s = mux.fromClient(a, call('1')).toServer[0] as { id: number };
    expect(mux.fromServer({ jsonrpc: '2.0', id: s.id, result: {} }).toSessions[0]?.msg).toMatchObject({
      id: '1',
    });
    expect(mux.fromServer({ jsonrpc: '2.0', id: n.id, result: {} }).toSessions[0]?.msg).toMatchObject({
      id: 1,
    });
  });

  it("maps progress tokens and cancellations to the session's own requests only", () => {
    const { mux, keys } = initialized(2);
    const [a, b] = keys as [SessionKey, SessionKey];
    const sa = mux.fromClient(a, call(3, { _meta: { progressToken: 'p' } })).toServer[0] as {
      params: { _meta: { progressToken: number } };
    };
    const sb = mux.fromClient(b, call(3, { _meta: { progressToken: 'p' } })).toServer[0] as {
      id: number;
      params: { _meta: { progressToken: number } };
    };
    expect(sa.params._meta.progressToken).not.toBe(sb.params._meta.progressToken);
    const progress = mux.fromServer({
      jsonrpc: '2.0',
      method: 'notifications/progress',
      params: { progressToken: sb.params._meta.progressToken, progress: 1 },
    });
    expect(progress.toSessions).toEqual([
      {
        session: b,
        related: 3,
        msg: {
          jsonrpc: '2.0',
          method: 'notifications/progress',
          params: { progressToken: 'p', progress: 1 },
        },
      },
    ]);
    const cancel = mux.fromClient(b, {
      jsonrpc: '2.0',
      method: 'notifications/cancelled',
      params: { requestId: 3 },
    });
    expect(cancel.toServer).toEqual([
      { jsonrpc: '2.0', method: 'notifications/cancelled', params: { requestId: sb.id } },
    ]);
    // An id the session does not hold cancels nothing.
    const stray = mux.fromClient(b, {
      jsonrpc: '2.0',
      method: 'notifications/cancelled',
      params: { requestId: 4 },
    });
    expect(stray.toServer).toEqual([]);
  });

  it('fans list_changed out to every initialized session and resources/updated to subscribers only', () => {
    const { mux, keys } = initialized(3);
    const [a, b, c] = keys as [SessionKey, SessionKey, SessionKey];
    const changed = mux.fromServer({ jsonrpc: '2.0', method: 'notifications/tools/list_changed' });
    expect(changed.toSessions.map((d) => d.session)).toEqual([a, b, c]);
    const sub = (k: SessionKey, id: number, method: string) =>
      mux.fromClient(k, { jsonrpc: '2.0', id, method, params: { uri: 'r://x' } });
    const subA = sub(a, 1, 'resources/subscribe').toServer[0] as { id: number };
    mux.fromServer({ jsonrpc: '2.0', id: subA.id, result: {} });
    sub(b, 1, 'resources/subscribe');
    const updated = () =>
      mux
        .fromServer({ jsonrpc: '2.0', method: 'notifications/resources/updated', params: { uri: 'r://x' } })
        .toSessions.map((d) => d.session);
    expect(updated()).toEqual([a, b]);
    // A unsubscribes while B still wants updates: answered here, the process keeps sending.
    const unA = sub(a, 2, 'resources/unsubscribe');
    expect(unA.toServer).toEqual([]);
    expect(unA.toSessions[0]?.msg).toEqual({ jsonrpc: '2.0', id: 2, result: {} });
    expect(updated()).toEqual([b]);
    // B, the last subscriber, ends: the mux unsubscribes in its stead.
    expect(mux.close(b).toServer).toContainEqual(
      expect.objectContaining({ method: 'resources/unsubscribe', params: { uri: 'r://x' } }),
    );
  });

  it('drops notifications that name no session (log messages) rather than showing them to all', () => {
    const { mux } = initialized(2);
    const log = mux.fromServer({
      jsonrpc: '2.0',
      method: 'notifications/message',
      params: { level: 'info', data: 'x' },
    });
    expect(log).toEqual({ toSessions: [], toServer: [] });
  });

  it('sends a server request to the one busy session, refuses it when none or several are busy, and answers ping itself', () => {
    const { mux, keys } = initialized(2);
    const [a, b] = keys as [SessionKey, SessionKey];
    const sampling = (id: number): JSONRPCMessage => ({
      jsonrpc: '2.0',
      id,
      method: 'sampling/createMessage',
      params: {},
    });
    expect(mux.fromServer(sampling(100)).toServer[0]).toMatchObject({ id: 100, error: { code: -32603 } });
    expect(mux.fromServer({ jsonrpc: '2.0', id: 101, method: 'ping' }).toServer).toEqual([
      { jsonrpc: '2.0', id: 101, result: {} },
    ]);
    mux.fromClient(a, call(1));
    const toA = mux.fromServer(sampling(102)).toSessions[0];
    expect(toA).toMatchObject({ session: a, related: 1, msg: { method: 'sampling/createMessage' } });
    const muxId = (toA?.msg as { id?: number } | undefined)?.id ?? -1;
    // Only A may answer it, and the process sees its own id again.
    expect(mux.fromClient(b, { jsonrpc: '2.0', id: muxId, result: { x: 1 } }).toServer).toEqual([]);
    expect(mux.fromClient(a, { jsonrpc: '2.0', id: muxId, result: { x: 1 } }).toServer).toEqual([
      { jsonrpc: '2.0', id: 102, result: { x: 1 } },
    ]);
    mux.fromClient(b, call(1));
    expect(mux.fromServer(sampling(103)).toServer[0]).toMatchObject({ id: 103, error: { code: -32603 } });
  });

  it('cancels the requests of a session that ends and refuses the process requests waiting on it', () => {
    const { mux, keys } = initialized(2);
    const [a] = keys as [SessionKey];
    const sent = mux.fromClient(a, call(1)).toServer[0] as { id: number };
    const toA = mux.fromServer({ jsonrpc: '2.0', id: 50, method: 'elicitation/create', params: {} });
    expect(toA.toSessions[0]?.session).toBe(a);
    const closed = mux.close(a);
    expect(closed.toServer).toEqual([
      {
        jsonrpc: '2.0',
        method: 'notifications/cancelled',
        params: { requestId: sent.id, reason: 'The MCP session ended' },
      },
      { jsonrpc: '2.0', id: 50, error: { code: -32603, message: 'The session ended' } },
    ]);
    // A late reply for the ended session goes nowhere.
    expect(mux.fromServer({ jsonrpc: '2.0', id: sent.id, result: {} }).toSessions).toEqual([]);
  });

  it('answers every open request with an error when the process ends, then initializes afresh', () => {
    const { mux, keys } = initialized(2);
    const [a, b] = keys as [SessionKey, SessionKey];
    mux.fromClient(a, call(1));
    mux.fromClient(b, call(1));
    const errors = mux.processEnded({ code: -32603, message: 'gone' });
    expect(errors.map((d) => [d.session, d.msg])).toEqual([
      [a, { jsonrpc: '2.0', id: 1, error: { code: -32603, message: 'gone' } }],
      [b, { jsonrpc: '2.0', id: 1, error: { code: -32603, message: 'gone' } }],
    ]);
    const c = mux.open();
    expect(mux.fromClient(c, initialize(0)).toServer).toHaveLength(1);
  });
});
