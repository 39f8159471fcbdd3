import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Principal } from '../contract/principal.ts';
import { jsonRpcError } from '../errors.ts';
import { type Exchange, forwardedBody, newExchange, type Refusal } from '../pipeline/exchange.ts';
import { principalKey } from '../pipeline/ports.ts';
import { exchangeReplyContext, inspectEvent, type ReplyContext } from '../pipeline/reply.ts';
import type { Runtime } from '../pipeline/runtime.ts';
import {
  admitAudit,
  authenticate,
  checkStreamTransport,
  postStages,
  refuse,
  runExchange,
  sendRefusal,
  type TransportBinding,
} from '../pipeline/stages.ts';
import { upstreamFailure } from '../pipeline/upstream-failure.ts';
import { formatEvent } from '../transport/sse.ts';
import {
  clientResponseHeaders,
  clientStatus,
  upstreamMessageHeaders,
  upstreamRequestHeaders,
} from '../upstream/headers.ts';
import type { UpstreamResponse } from '../upstream/http.ts';
import { pipeBody, relaySse } from './relay.ts';
import { addUpstreamCredential } from './upstream-credential.ts';

// The legacy HTTP+SSE transport (2024-11-05): GET opens an event stream whose first event names the
// URL to POST messages to; replies arrive on the stream, not in the POST response. The endpoint URL
// is kept as the server gives it (whatever its query: `sessionId`, `session_id`, ...) if it stays on
// the upstream's origin, and the client gets the sidecar's message path with a session id the
// sidecar mints and binds to the caller. Denials are written into the stream.

/** List requests awaiting their answer per session: the filter must know them all, so more are refused. */
export const MAX_OUTSTANDING_LISTS = 256;

interface LegacySession {
  /** Path and query of the upstream's endpoint, as it gave them. */
  readonly upstreamPath: string;
  readonly res: ServerResponse;
  /** List requests sent and not yet answered: id -> method. */
  readonly outstanding: Map<string | number, string>;
}

export interface LegacyPaths {
  readonly sse: string;
  readonly message: string;
}

/** Writes JSON-RPC answers into the session's stream, where this transport carries every reply. */
function writeToStream(session: LegacySession, r: Refusal): void {
  const bodies = Array.isArray(r.body) ? r.body : r.body === undefined ? [] : [r.body];
  for (const b of bodies) session.res.write(formatEvent({ event: 'message', data: JSON.stringify(b) }));
}

export function legacySseHandlers(paths: LegacyPaths) {
  const live = new Map<string, LegacySession>();

  const streamBinding: TransportBinding = {
    sessionOf: () => undefined,
    sessionOptional: () => true,
    async forward(ex: Exchange) {
      const { runtime } = ex;
      const principal = ex.principal as Principal;
      const headers = {
        ...upstreamRequestHeaders(ex.req.headers, runtime.upstreamHeaders),
        accept: 'text/event-stream',
      };
      const noCredential = await addUpstreamCredential(ex, headers);
      if (noCredential !== undefined) return upstreamFailure(ex, noCredential);
      let up: UpstreamResponse;
      try {
        up = await runtime.upstream.request({ method: 'GET', headers });
      } catch (err) {
        return upstreamFailure(ex, err);
      }
      if (up.statusCode !== 200) {
        ex.res.writeHead(clientStatus(up.statusCode), clientResponseHeaders(up.headers));
        return pipeBody(up.body, ex.res);
      }
      const upstreamOrigin = new URL(runtime.upstream.url).origin;
      const outstanding = new Map<string | number, string>();
      ex.filterIds = outstanding;
      const ctx: ReplyContext = {
        ...exchangeReplyContext(ex),
        // Every answer here is to a message POSTed in another exchange: it gets its own event.
        answered(id) {
          outstanding.delete(id);
          return false;
        },
      };
      // The headers wait for the endpoint event, so a stream that cannot be bound is refused with a
      // status instead of leaving the client waiting on an open stream.
      const open = () => {
        if (ex.res.headersSent) return;
        ex.res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
      };
      const refuseStream = (reason: string): string => {
        ex.refusal = refuse('UPSTREAM_PROTOCOL', reason, null);
        sendRefusal(ex, ex.refusal);
        up.body.destroy();
        return '';
      };
      await relaySse(up.body, ex.res, ex.upstreamWait, (ev) => {
        if (ev.event === 'endpoint' && ex.sessionId === undefined) {
          let url: URL;
          try {
            url = new URL(ev.data, runtime.upstream.url);
          } catch {
            return refuseStream('endpoint event is not a URL');
          }
          if (url.origin !== upstreamOrigin)
            return refuseStream(`endpoint event points at another origin (${url.origin.slice(0, 128)})`);
          const sessionId = randomUUID();
          live.set(sessionId, { upstreamPath: `${url.pathname}${url.search}`, res: ex.res, outstanding });
          runtime.sessions.bind(sessionId, principalKey(principal));
          ex.sessionId = sessionId;
          open();
          return formatEvent({ event: 'endpoint', data: `${paths.message}?sessionId=${sessionId}` });
        }
        open();
        return inspectEvent(ctx, ev);
      });
      if (ex.sessionId !== undefined) {
        live.delete(ex.sessionId);
        runtime.sessions.remove(ex.sessionId);
      }
    },
  };

  const messageBinding: TransportBinding = {
    sessionOf: (ex) => new URL(ex.req.url ?? '/', 'http://x').searchParams.get('sessionId') ?? undefined,
    sessionOptional: () => false,
    async forward(ex: Exchange, denied: Refusal | undefined) {
      const session = ex.sessionId === undefined ? undefined : live.get(ex.sessionId);
      if (session === undefined) {
        ex.refusal = refuse('SESSION_NOT_FOUND', 'no open stream for this session', null);
        return sendRefusal(ex, ex.refusal);
      }
      const lists = [...(ex.filterIds ?? [])].filter(([id]) => !session.outstanding.has(id));
      if (denied === undefined && session.outstanding.size + lists.length > MAX_OUTSTANDING_LISTS) {
        const requests = ex.messages.flatMap((m) => (m.msg.kind === 'request' ? [m.msg.id] : []));
        ex.refusal = {
          ...refuse('TOO_MANY_OUTSTANDING', `${session.outstanding.size} list requests unanswered`, null),
          body: requests.map((id) => jsonRpcError('TOO_MANY_OUTSTANDING', id)),
        };
        denied = ex.refusal;
      }
      if (denied !== undefined) {
        writeToStream(session, denied);
        ex.res.writeHead(202, { 'content-type': 'text/plain' }).end('Accepted');
        return;
      }
      for (const [id, method] of lists) session.outstanding.set(id, method);
      // Requests the server never takes are never answered: they stop counting at once.
      const forget = () => {
        for (const [id] of lists) session.outstanding.delete(id);
      };
      const headers = upstreamMessageHeaders(ex.req.headers, ex.runtime.upstreamHeaders);
      const noCredential = await addUpstreamCredential(ex, headers);
      if (noCredential !== undefined) {
        forget();
        return upstreamFailure(ex, noCredential);
      }
      const t0 = performance.now();
      ex.upstreamWait.start();
      let up: UpstreamResponse;
      try {
        up = await ex.runtime.upstream.request({
          method: 'POST',
          path: session.upstreamPath,
          headers,
          body: forwardedBody(ex),
        });
      } catch (err) {
        forget();
        return upstreamFailure(ex, err);
      }
      if (up.statusCode >= 300) forget();
      const replied = performance.now();
      ex.upstreamWait.stop(replied);
      for (const m of ex.messages) m.record.upstreamLatencyMs = replied - t0;
      ex.res.writeHead(clientStatus(up.statusCode), clientResponseHeaders(up.headers));
      await pipeBody(up.body, ex.res, ex.upstreamWait);
    },
  };

  const streamOrder = [checkStreamTransport, authenticate, admitAudit];
  const messageOrder = postStages(messageBinding);
  return {
    stream(runtime: Runtime, req: IncomingMessage, res: ServerResponse): Promise<void> {
      return runExchange(newExchange(runtime, req, res, 'sse'), streamOrder, streamBinding);
    },
    message(runtime: Runtime, req: IncomingMessage, res: ServerResponse): Promise<void> {
      return runExchange(newExchange(runtime, req, res, 'sse'), messageOrder, messageBinding);
    },
  };
}
