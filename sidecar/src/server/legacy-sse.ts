import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Principal } from '../authn/principal.ts';
import type { Exchange, Refusal } from '../pipeline/exchange.ts';
import { principalKey } from '../pipeline/ports.ts';
import { inspectReply, mayBeResponse, type ReplyContext } from '../pipeline/reply.ts';
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
import { formatEvent } from '../transport/sse.ts';
import { clientResponseHeaders, clientStatus, upstreamRequestHeaders } from '../upstream/headers.ts';
import type { UpstreamResponse } from '../upstream/http.ts';
import { pipeBody, relaySse } from './relay.ts';
import { newExchange, upstreamFailure } from './streamable.ts';

// The legacy HTTP+SSE transport (2024-11-05): GET opens an event stream whose first event names the
// URL to POST messages to; replies arrive on the stream, not in the POST response. The endpoint
// event is rewritten to the sidecar's own message path, and denials are written into the stream.

interface LegacySession {
  readonly principal: Principal;
  readonly upstreamPath: string;
  readonly res: ServerResponse;
  readonly filterIds: Map<string | number, string>;
}

export interface LegacyPaths {
  readonly sse: string;
  readonly message: string;
}

export function legacySseHandlers(paths: LegacyPaths) {
  const live = new Map<string, LegacySession>();

  const streamBinding: TransportBinding = {
    sessionOf: () => undefined,
    sessionOptional: () => true,
    async forward(ex: Exchange) {
      const { runtime } = ex;
      const principal = ex.principal as Principal;
      let up: UpstreamResponse;
      try {
        up = await runtime.upstream.request({
          method: 'GET',
          headers: {
            ...upstreamRequestHeaders(ex.req.headers, runtime.upstreamHeaders),
            accept: 'text/event-stream',
          },
        });
      } catch (err) {
        return upstreamFailure(ex, err);
      }
      if (up.statusCode !== 200) {
        ex.res.writeHead(clientStatus(up.statusCode), clientResponseHeaders(up.headers));
        return pipeBody(up.body, ex.res);
      }
      ex.res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
      ex.res.flushHeaders();
      let sessionId: string | undefined;
      const filterIds = new Map<string | number, string>();
      const ctx: ReplyContext = { principal, policy: runtime.policy, filterIds };
      await relaySse(up.body, ex.res, ex.upstreamWait, (ev) => {
        if (ev.event === 'endpoint' && sessionId === undefined) {
          const url = new URL(ev.data, runtime.upstream.url);
          sessionId = url.searchParams.get('sessionId') ?? undefined;
          if (sessionId === undefined) return '';
          live.set(sessionId, {
            principal,
            upstreamPath: `${url.pathname}${url.search}`,
            res: ex.res,
            filterIds,
          });
          runtime.sessions.bind(sessionId, principalKey(principal));
          return formatEvent({
            event: 'endpoint',
            data: `${paths.message}?sessionId=${encodeURIComponent(sessionId)}`,
          });
        }
        if (!mayBeResponse(ev.data)) return undefined;
        const replaced = inspectReply(ctx, ev.data);
        if (filterIds.size > 256) filterIds.clear(); // replies never sent must not pile up
        return replaced === undefined
          ? undefined
          : formatEvent({ event: ev.event, id: ev.id, data: replaced });
      });
      if (sessionId !== undefined) {
        live.delete(sessionId);
        runtime.sessions.remove(sessionId);
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
      if (denied !== undefined) {
        // Replies travel on the stream in this transport, denials too.
        const bodies = Array.isArray(denied.body)
          ? denied.body
          : denied.body === undefined
            ? []
            : [denied.body];
        for (const b of bodies) session.res.write(formatEvent({ event: 'message', data: JSON.stringify(b) }));
        ex.res.writeHead(202, { 'content-type': 'text/plain' }).end('Accepted');
        return;
      }
      for (const [id, method] of ex.filterIds ?? []) session.filterIds.set(id, method);
      const t0 = performance.now();
      ex.upstreamWait.start();
      let up: UpstreamResponse;
      try {
        up = await ex.runtime.upstream.request({
          method: 'POST',
          path: session.upstreamPath,
          headers: upstreamRequestHeaders(ex.req.headers, ex.runtime.upstreamHeaders),
          body: ex.body as string,
        });
      } catch (err) {
        return upstreamFailure(ex, err);
      }
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
      const ex = newExchange(runtime, req, res, 'sse');
      ex.recordOnlyRefusals = true;
      return runExchange(ex, streamOrder, streamBinding);
    },
    message(runtime: Runtime, req: IncomingMessage, res: ServerResponse): Promise<void> {
      return runExchange(newExchange(runtime, req, res, 'sse'), messageOrder, messageBinding);
    },
  };
}
