import type { JSONRPCMessage } from '@modelcontextprotocol/sdk/types.js';

// The pure core of the stdio `shared` mode: many MCP sessions over one server process. JSON-RPC ids
// are chosen by each client, so two sessions collide; the mux gives every request the process sees
// an id of its own, and maps what comes back (replies, progress, cancellations, the server's own
// requests) to the one session it belongs to. Nothing is ever delivered to a session by guess:
// what cannot be attributed is refused (a server request) or dropped (a notification), except the
// list_changed notifications, which concern every session, and resources/updated, which goes to the
// sessions subscribed to the resource.
//
// The process is initialized once, by the first session's initialize; later sessions get the
// result the process gave then (its capabilities, instructions and protocol version), and only the
// first notifications/initialized reaches the process. What the process is told of its client does
// not depend on who came first: it may ask for sampling and elicitation (each request goes to the
// calling session, refused if that session's client cannot), never for roots (a caller's own).

export type SessionKey = number;
type Id = string | number;

export interface Delivery {
  readonly session: SessionKey;
  readonly msg: JSONRPCMessage;
  /** The session's request this message belongs to (the stream it goes on), when it is not a reply. */
  readonly related?: Id;
}

export interface Routed {
  readonly toSessions: Delivery[];
  readonly toServer: JSONRPCMessage[];
}

/** What a session is told when the mux answers in the process's stead. */
export interface MuxError {
  readonly code: number;
  readonly message: string;
}

const DUPLICATE_ID: MuxError = { code: -32600, message: 'Request id already in use in this session' };
const NOT_ATTRIBUTABLE: MuxError = {
  code: -32603,
  message: 'Shared stdio process: the request cannot be attributed to one session',
};
const SESSION_ENDED: MuxError = { code: -32603, message: 'The session ended' };
const NOT_SUPPORTED: MuxError = {
  code: -32601,
  message: "The session's client does not support this request",
};

/** The client capabilities the process is told of, whoever initializes it. */
const SHARED_CLIENT_CAPABILITIES = { sampling: {}, elicitation: {} };
/** The client capability a server request needs. */
const NEEDS: Record<string, string> = {
  'sampling/createMessage': 'sampling',
  'elicitation/create': 'elicitation',
  'roots/list': 'roots',
};

const LIST_CHANGED = new Set([
  'notifications/tools/list_changed',
  'notifications/prompts/list_changed',
  'notifications/resources/list_changed',
]);

interface Outgoing {
  /** undefined: the mux's own request (an unsubscribe at session end), or a session that ended. */
  session: SessionKey | undefined;
  readonly id: Id;
  readonly method: string;
  readonly progress: number | undefined;
}

interface Progress {
  readonly session: SessionKey;
  readonly token: Id;
  readonly request: Id;
}

interface ServerRequest {
  readonly session: SessionKey;
  readonly serverId: Id;
}

interface Session {
  /** The session's pending request ids (keyed by idKey) → the ids the process saw. */
  readonly requests: Map<string, number>;
  /** Server requests sent to this session: the id it saw → the process's id. */
  readonly serverRequests: Set<number>;
  readonly subscriptions: Set<string>;
  /** What its client declared in its initialize. */
  capabilities: Record<string, unknown>;
  initialized: boolean;
}

type Init =
  | { readonly state: 'none' }
  | { readonly state: 'pending'; readonly waiting: { session: SessionKey; id: Id }[] }
  | { readonly state: 'done'; readonly result: Record<string, unknown> };

const idKey = (id: Id) => `${typeof id}:${id}`;
const none = (): Routed => ({ toSessions: [], toServer: [] });

export class SessionMux {
  readonly #sessions = new Map<SessionKey, Session>();
  readonly #outgoing = new Map<number, Outgoing>();
  readonly #progress = new Map<number, Progress>();
  readonly #serverRequests = new Map<number, ServerRequest>();
  #next = 1;
  #nextSession = 1;
  #init: Init = { state: 'none' };
  #initializedSent = false;

  /** A new session; its first message must be an initialize. */
  open(): SessionKey {
    const key = this.#nextSession++;
    this.#sessions.set(key, {
      requests: new Map(),
      serverRequests: new Set(),
      subscriptions: new Set(),
      capabilities: {},
      initialized: false,
    });
    return key;
  }

  get sessions(): number {
    return this.#sessions.size;
  }

  /** A message from a session's client. */
  fromClient(key: SessionKey, msg: JSONRPCMessage): Routed {
    const s = this.#sessions.get(key);
    if (s === undefined) return none();
    if ('method' in msg && 'id' in msg) return this.#clientRequest(key, s, msg);
    if ('method' in msg) return this.#clientNotification(s, msg);
    return this.#clientReply(key, s, msg);
  }

  /** A message from the process. */
  fromServer(msg: JSONRPCMessage): Routed {
    if ('method' in msg && 'id' in msg) return this.#serverRequest(msg);
    if ('method' in msg) return this.#serverNotification(msg);
    return this.#serverReply(msg);
  }

  /**
   * A session is gone: its requests still running in the process are cancelled, the process's
   * requests to it are answered with an error, and subscriptions no one else holds are undone.
   */
  close(key: SessionKey): Routed {
    const s = this.#sessions.get(key);
    if (s === undefined) return none();
    this.#sessions.delete(key);
    const out = none();
    for (const upstreamId of s.requests.values()) {
      const o = this.#outgoing.get(upstreamId);
      if (o === undefined) continue;
      if (o.method === 'initialize') {
        // Others may wait for it: the reply still initializes the process.
        o.session = undefined;
        continue;
      }
      this.#forget(upstreamId);
      out.toServer.push({
        jsonrpc: '2.0',
        method: 'notifications/cancelled',
        params: { requestId: upstreamId, reason: 'The MCP session ended' },
      });
    }
    if (this.#init.state === 'pending') {
      const waiting = this.#init.waiting.filter((w) => w.session !== key);
      this.#init = { state: 'pending', waiting };
    }
    for (const muxId of s.serverRequests) out.toServer.push(this.#refuseServerRequest(muxId, SESSION_ENDED));
    for (const uri of s.subscriptions) {
      if (!this.#subscribed(uri)) out.toServer.push(this.#ownRequest('resources/unsubscribe', { uri }));
    }
    return out;
  }

  /** The process ended: every open request gets `error`, and the mux starts afresh. */
  processEnded(error: MuxError): Delivery[] {
    const out: Delivery[] = [];
    for (const o of this.#outgoing.values()) {
      if (o.session !== undefined) out.push({ session: o.session, msg: errorReply(o.id, error) });
    }
    if (this.#init.state === 'pending') {
      for (const w of this.#init.waiting) out.push({ session: w.session, msg: errorReply(w.id, error) });
    }
    this.#outgoing.clear();
    this.#progress.clear();
    this.#serverRequests.clear();
    this.#sessions.clear();
    this.#init = { state: 'none' };
    this.#initializedSent = false;
    return out;
  }

  #clientRequest(key: SessionKey, s: Session, msg: JSONRPCMessage & { method: string; id: Id }): Routed {
    const reply = (m: JSONRPCMessage): Routed => ({ toSessions: [{ session: key, msg: m }], toServer: [] });
    if (s.requests.has(idKey(msg.id))) return reply(errorReply(msg.id, DUPLICATE_ID));
    const params = (msg as { params?: Record<string, unknown> }).params;
    if (msg.method === 'initialize') {
      const declared = params?.capabilities;
      s.capabilities =
        declared !== null && typeof declared === 'object' ? (declared as Record<string, unknown>) : {};
      if (this.#init.state === 'done') {
        s.initialized = true;
        return reply({ jsonrpc: '2.0', id: msg.id, result: structuredClone(this.#init.result) });
      }
      if (this.#init.state === 'pending') {
        this.#init.waiting.push({ session: key, id: msg.id });
        return none();
      }
      this.#init = { state: 'pending', waiting: [] };
      msg = { ...msg, params: { ...params, capabilities: SHARED_CLIENT_CAPABILITIES } } as typeof msg;
    }
    if (msg.method === 'resources/subscribe' && typeof params?.uri === 'string')
      s.subscriptions.add(params.uri);
    if (msg.method === 'resources/unsubscribe' && typeof params?.uri === 'string') {
      s.subscriptions.delete(params.uri);
      // Another session still wants the updates: the process must keep sending them.
      if (this.#subscribed(params.uri)) return reply({ jsonrpc: '2.0', id: msg.id, result: {} });
    }
    const upstreamId = this.#next++;
    const meta = params?._meta as Record<string, unknown> | undefined;
    const token = meta?.progressToken;
    let progress: number | undefined;
    let sent: JSONRPCMessage = { ...msg, id: upstreamId };
    if (typeof token === 'string' || typeof token === 'number') {
      progress = this.#next++;
      this.#progress.set(progress, { session: key, token, request: msg.id });
      sent = {
        ...sent,
        params: { ...params, _meta: { ...meta, progressToken: progress } },
      } as JSONRPCMessage;
    }
    s.requests.set(idKey(msg.id), upstreamId);
    this.#outgoing.set(upstreamId, { session: key, id: msg.id, method: msg.method, progress });
    return { toSessions: [], toServer: [sent] };
  }

  #clientNotification(s: Session, msg: JSONRPCMessage & { method: string }): Routed {
    const params = (msg as { params?: Record<string, unknown> }).params;
    if (msg.method === 'notifications/initialized') {
      s.initialized = true;
      if (this.#initializedSent) return none();
      this.#initializedSent = true;
      return { toSessions: [], toServer: [msg] };
    }
    if (msg.method === 'notifications/cancelled') {
      const requestId = params?.requestId;
      if (typeof requestId !== 'string' && typeof requestId !== 'number') return none();
      const upstreamId = s.requests.get(idKey(requestId));
      // Only the session's own requests: an id it does not hold cancels nothing.
      if (upstreamId === undefined || this.#outgoing.get(upstreamId)?.method === 'initialize') return none();
      return { toSessions: [], toServer: [{ ...msg, params: { ...params, requestId: upstreamId } }] };
    }
    // The rest (progress on the server's requests, roots/list_changed) is in the process's terms.
    return { toSessions: [], toServer: [msg] };
  }

  #clientReply(key: SessionKey, s: Session, msg: JSONRPCMessage): Routed {
    const id = (msg as { id?: Id }).id;
    if (typeof id !== 'number' || !s.serverRequests.has(id)) return none();
    const r = this.#serverRequests.get(id);
    s.serverRequests.delete(id);
    this.#serverRequests.delete(id);
    if (r === undefined || r.session !== key) return none();
    return { toSessions: [], toServer: [{ ...msg, id: r.serverId } as JSONRPCMessage] };
  }

  #serverReply(msg: JSONRPCMessage): Routed {
    const id = (msg as { id?: Id }).id;
    const o = typeof id === 'number' ? this.#outgoing.get(id) : undefined;
    if (o === undefined || typeof id !== 'number') return none();
    this.#forget(id);
    const out = none();
    if (o.method === 'initialize') {
      const pending = this.#init.state === 'pending' ? this.#init.waiting : [];
      const result = (msg as { result?: Record<string, unknown> }).result;
      this.#init = result !== undefined ? { state: 'done', result } : { state: 'none' };
      for (const w of pending) {
        this.#markInitialized(w.session, result !== undefined);
        out.toSessions.push({ session: w.session, msg: { ...msg, id: w.id } as JSONRPCMessage });
      }
      if (o.session !== undefined) this.#markInitialized(o.session, result !== undefined);
    }
    if (o.session !== undefined)
      out.toSessions.push({ session: o.session, msg: { ...msg, id: o.id } as JSONRPCMessage });
    return out;
  }

  #serverNotification(msg: JSONRPCMessage & { method: string }): Routed {
    const params = (msg as { params?: Record<string, unknown> }).params;
    const out = none();
    if (msg.method === 'notifications/progress') {
      const token = params?.progressToken;
      const p = typeof token === 'number' ? this.#progress.get(token) : undefined;
      if (p !== undefined) {
        out.toSessions.push({
          session: p.session,
          msg: { ...msg, params: { ...params, progressToken: p.token } } as JSONRPCMessage,
          related: p.request,
        });
      }
    } else if (msg.method === 'notifications/cancelled') {
      // The process gave up on its own request to a session.
      for (const [muxId, r] of this.#serverRequests) {
        if (r.serverId !== params?.requestId) continue;
        this.#serverRequests.delete(muxId);
        this.#sessions.get(r.session)?.serverRequests.delete(muxId);
        out.toSessions.push({ session: r.session, msg: { ...msg, params: { ...params, requestId: muxId } } });
      }
    } else if (LIST_CHANGED.has(msg.method)) {
      for (const [key, s] of this.#sessions) if (s.initialized) out.toSessions.push({ session: key, msg });
    } else if (msg.method === 'notifications/resources/updated' && typeof params?.uri === 'string') {
      for (const [key, s] of this.#sessions) {
        if (s.subscriptions.has(params.uri)) out.toSessions.push({ session: key, msg });
      }
    }
    // Anything else (log messages above all) names no session: dropped rather than shown to all.
    return out;
  }

  #serverRequest(msg: JSONRPCMessage & { method: string; id: Id }): Routed {
    if (msg.method === 'ping')
      return { toSessions: [], toServer: [{ jsonrpc: '2.0', id: msg.id, result: {} }] };
    // On stdio a server's request (sampling, elicitation, roots) does not say which call it serves:
    // it goes to a session only when exactly one has a request in the process, else it is refused.
    const busy = [...this.#sessions].filter(([, s]) => s.requests.size > 0);
    const only = busy.length === 1 ? busy[0] : undefined;
    if (only === undefined) return { toSessions: [], toServer: [errorReply(msg.id, NOT_ATTRIBUTABLE)] };
    const [key, s] = only;
    const needs = NEEDS[msg.method];
    if (needs !== undefined && s.capabilities[needs] === undefined) {
      return { toSessions: [], toServer: [errorReply(msg.id, NOT_SUPPORTED)] };
    }
    const muxId = this.#next++;
    this.#serverRequests.set(muxId, { session: key, serverId: msg.id });
    s.serverRequests.add(muxId);
    // On the stream of the session's latest request, which the client is reading.
    const latest = [...s.requests.values()].at(-1);
    const relatedId = latest === undefined ? undefined : this.#outgoing.get(latest)?.id;
    return {
      toSessions: [
        { session: key, msg: { ...msg, id: muxId }, ...(relatedId !== undefined && { related: relatedId }) },
      ],
      toServer: [],
    };
  }

  #refuseServerRequest(muxId: number, error: MuxError): JSONRPCMessage {
    const r = this.#serverRequests.get(muxId);
    this.#serverRequests.delete(muxId);
    return errorReply(r?.serverId ?? muxId, error);
  }

  #ownRequest(method: string, params: Record<string, unknown>): JSONRPCMessage {
    const upstreamId = this.#next++;
    this.#outgoing.set(upstreamId, { session: undefined, id: upstreamId, method, progress: undefined });
    return { jsonrpc: '2.0', id: upstreamId, method, params };
  }

  #forget(upstreamId: number): void {
    const o = this.#outgoing.get(upstreamId);
    if (o === undefined) return;
    this.#outgoing.delete(upstreamId);
    if (o.progress !== undefined) this.#progress.delete(o.progress);
    if (o.session !== undefined) this.#sessions.get(o.session)?.requests.delete(idKey(o.id));
  }

  #markInitialized(key: SessionKey, ok: boolean): void {
    const s = this.#sessions.get(key);
    if (s !== undefined && ok) s.initialized = true;
  }

  #subscribed(uri: string): boolean {
    for (const s of this.#sessions.values()) if (s.subscriptions.has(uri)) return true;
    return false;
  }
}

function errorReply(id: Id, error: MuxError): JSONRPCMessage {
  return { jsonrpc: '2.0', id, error: { code: error.code, message: error.message } };
}
