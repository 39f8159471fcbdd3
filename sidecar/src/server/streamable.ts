import { EventEmitter } from 'node:events';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { ProxyError } from '../errors.ts';
import { type Exchange, forwardedBody, header, newExchange, type Refusal } from '../pipeline/exchange.ts';
import { principalKey } from '../pipeline/ports.ts';
import { exchangeReplyContext, inspectEvent, inspectReply } from '../pipeline/reply.ts';
import type { Runtime } from '../pipeline/runtime.ts';
import {
  postStages,
  runExchange,
  sendRefusal,
  streamStages,
  type TransportBinding,
} from '../pipeline/stages.ts';
import { traceUpstream } from '../pipeline/trace.ts';
import { upstreamFailure } from '../pipeline/upstream-failure.ts';
import {
  clientResponseHeaders,
  clientStatus,
  upstreamMessageHeaders,
  upstreamRequestHeaders,
} from '../upstream/headers.ts';
import type { UpstreamResponse } from '../upstream/http.ts';
import { pipeBody, readAll, relaySse } from './relay.ts';
import { addUpstreamCredential } from './upstream-credential.ts';

// The Streamable HTTP transport (2025-03-26 .. 2026-07-28) in front of a Streamable HTTP upstream:
// POST carries messages (JSON or SSE replies), GET opens the server's stream, DELETE ends a session.

const MAX_JSON_REPLY_BYTES = 64 * 1024 * 1024;

/**
 * Aborts the upstream call when the client goes away first. undici takes an EventEmitter as the
 * signal, which costs a fraction of an AbortController and its EventTarget on every call.
 */
function abortOnClientClose(ex: Exchange): EventEmitter {
  const signal = new EventEmitter();
  ex.res.once('close', () => {
    if (!ex.res.writableFinished) signal.emit('abort');
  });
  return signal;
}

/**
 * Relays the upstream's reply: every SSE event and every JSON reply passes the filter and is audited
 * (reply.ts); other content types are piped as they are.
 */
async function relayReply(ex: Exchange, up: UpstreamResponse): Promise<void> {
  const headers = clientResponseHeaders(up.headers);
  const status = clientStatus(up.statusCode);
  // Media types are case-insensitive (RFC 9110 §8.3.1); clients lowercase them before they dispatch.
  const type = (headers['content-type'] ?? '').toLowerCase();
  const ctx = exchangeReplyContext(ex);
  if (type.startsWith('text/event-stream')) {
    // No flushHeaders on a POST: its reply stream usually holds one event and ends at once, and the
    // headers then leave with it in one write instead of three (headers, event, final chunk). A GET
    // stream may stay silent for long: its headers go at once.
    ex.res.writeHead(status, headers);
    if (ex.req.method === 'GET') ex.res.flushHeaders();
    await relaySse(up.body, ex.res, ex.upstreamWait, (ev) => inspectEvent(ctx, ev));
    return;
  }
  if (type.startsWith('application/json')) {
    ex.upstreamWait.start();
    const text = await readAll(up.body, MAX_JSON_REPLY_BYTES);
    ex.upstreamWait.stop();
    if (text === undefined)
      return upstreamFailure(ex, new ProxyError('UPSTREAM_PROTOCOL', 'reply too large'));
    const out = text === '' ? text : inspectReply(ctx, text);
    if (out === '' && text !== '')
      return upstreamFailure(ex, new ProxyError('UPSTREAM_PROTOCOL', 'reply not JSON, or not auditable'));
    const body = out ?? text;
    headers['content-length'] = String(Buffer.byteLength(body));
    ex.res.writeHead(status, headers).end(body);
    return;
  }
  ex.res.writeHead(status, headers);
  await pipeBody(up.body, ex.res, ex.upstreamWait);
}

export function streamableBinding(): TransportBinding {
  return {
    sessionOf: (ex) => header(ex.req, 'mcp-session-id'),
    // Stateless servers and 2026-07-28 have no sessions; a request without one is checked on its own.
    sessionOptional: () => true,
    async forward(ex: Exchange, denied: Refusal | undefined) {
      if (denied !== undefined) return sendRefusal(ex, denied);
      const { runtime } = ex;
      const headers = upstreamMessageHeaders(ex.req.headers, runtime.upstreamHeaders);
      Object.assign(
        headers,
        runtime.paramHeaders.derive(ex.messages.length === 1 ? ex.messages[0]?.msg : undefined),
      );
      const noCredential = await addUpstreamCredential(ex, headers);
      if (noCredential !== undefined) return upstreamFailure(ex, noCredential);
      const span =
        ex.trace && runtime.tracing ? traceUpstream(ex, runtime.tracing, ex.trace, headers) : undefined;
      const t0 = performance.now();
      ex.upstreamWait.start();
      let up: UpstreamResponse;
      try {
        up = await runtime.upstream.request({
          method: 'POST',
          headers,
          body: forwardedBody(ex),
          signal: abortOnClientClose(ex),
        });
      } catch (err) {
        if (span)
          runtime.tracing?.end(span, {
            errorType: err instanceof ProxyError ? err.code : 'UPSTREAM_UNAVAILABLE',
          });
        return upstreamFailure(ex, err);
      }
      const replied = performance.now();
      ex.upstreamWait.stop(replied);
      const upstreamLatencyMs = replied - t0;
      for (const m of ex.messages) m.record.upstreamLatencyMs = upstreamLatencyMs;
      const sid = up.headers['mcp-session-id'];
      const initialized = ex.messages.some((m) => m.msg.kind === 'request' && m.msg.method === 'initialize');
      if (typeof sid === 'string' && initialized && up.statusCode < 300 && ex.principal !== undefined) {
        runtime.sessions.bind(sid, principalKey(ex.principal));
        ex.sessionId = sid;
      } else if (up.statusCode === 404 && ex.sessionId !== undefined) {
        runtime.sessions.remove(ex.sessionId);
      }
      if (up.statusCode >= 400) {
        for (const m of ex.messages) {
          m.record.outcome = 'failed';
          m.record.reason = `upstream answered HTTP ${up.statusCode}`;
        }
      }
      await relayReply(ex, up);
      if (span)
        runtime.tracing?.end(span, up.statusCode >= 400 ? { errorType: String(up.statusCode) } : undefined);
    },
  };
}

/**
 * GET (the server's stream, or a stream resumed with Last-Event-ID) and DELETE (end of session):
 * authenticated, bound to the session's owner, one event each; every message on a GET stream passes
 * the same filter and audit as a POST's reply.
 */
export function streamableControlBinding(method: 'GET' | 'DELETE'): TransportBinding {
  return {
    sessionOf: (ex) => header(ex.req, 'mcp-session-id'),
    sessionOptional: () => false,
    async forward(ex: Exchange) {
      const { runtime } = ex;
      const headers = upstreamRequestHeaders(ex.req.headers, runtime.upstreamHeaders);
      const noCredential = await addUpstreamCredential(ex, headers);
      if (noCredential !== undefined) return upstreamFailure(ex, noCredential);
      let up: UpstreamResponse;
      ex.upstreamWait.start();
      try {
        up = await runtime.upstream.request({
          method,
          headers,
          signal: abortOnClientClose(ex),
        });
      } catch (err) {
        return upstreamFailure(ex, err);
      }
      ex.upstreamWait.stop();
      if (method === 'DELETE' && up.statusCode < 300 && ex.sessionId !== undefined)
        runtime.sessions.remove(ex.sessionId);
      if (up.statusCode === 404 && ex.sessionId !== undefined) runtime.sessions.remove(ex.sessionId);
      await relayReply(ex, up);
    },
  };
}

export interface StreamableHandlers {
  post(runtime: Runtime, req: IncomingMessage, res: ServerResponse): Promise<void>;
  get(runtime: Runtime, req: IncomingMessage, res: ServerResponse): Promise<void>;
  delete(runtime: Runtime, req: IncomingMessage, res: ServerResponse): Promise<void>;
}

export function streamableHandlers(): StreamableHandlers {
  const post = streamableBinding();
  const postOrder = postStages(post);
  const get = streamableControlBinding('GET');
  const getOrder = streamStages(get);
  const del = streamableControlBinding('DELETE');
  const delOrder = streamStages(del);
  const control =
    (binding: TransportBinding, order: typeof getOrder) =>
    (runtime: Runtime, req: IncomingMessage, res: ServerResponse) => {
      return runExchange(newExchange(runtime, req, res, 'streamable-http'), order, binding);
    };
  return {
    post: (runtime, req, res) =>
      runExchange(newExchange(runtime, req, res, 'streamable-http'), postOrder, post),
    get: control(get, getOrder),
    delete: control(del, delOrder),
  };
}
