import type { IncomingMessage, ServerResponse } from 'node:http';
import Fastify, { type FastifyInstance, type FastifyReply } from 'fastify';
import type { Authenticator } from '../authn/index.ts';
import type { Runtime } from '../pipeline/runtime.ts';
import { jsonRpcError } from '../transport/errors.ts';
import { clientErrorHandler, refusedRequestRecord } from './client-errors.ts';
import { legacySseHandlers } from './legacy-sse.ts';
import { streamableHandlers } from './streamable.ts';

// The MCP-facing HTTP server. Routes are fixed at start (listen path, transport); everything a
// request needs is read from the current Runtime, which a reload swaps without touching connections.

export interface RuntimeHolder {
  runtime: Runtime;
  authenticator: Authenticator;
}

export interface AppOptions {
  readonly holder: RuntimeHolder;
  readonly legacyPaths?: { readonly sse: string; readonly message: string };
}

export const DEFAULT_LEGACY_PATHS = { sse: '/sse', message: '/message' } as const;

export function createApp(opts: AppOptions): FastifyInstance {
  const { holder } = opts;
  const config = holder.runtime.config;
  const transport = config.upstream.transport === 'sse' ? 'sse' : 'streamable-http';
  const app = Fastify({
    logger: false,
    http: {
      maxHeaderSize: config.limits.maxHeaderBytes,
      // How often Node looks for requests past their time (default 30 s): a quarter of the limit.
      connectionsCheckingInterval: Math.min(30_000, Math.max(50, config.limits.requestTimeoutMs / 4)),
    },
    requestTimeout: config.limits.requestTimeoutMs,
    clientErrorHandler: clientErrorHandler((r) => holder.runtime.recorder.record(r), transport),
    // A path that does not decode: fastify's own answer would echo it back.
    frameworkErrors: (err, request, reply) => {
      const { socket } = request.raw;
      const refusal = {
        code: 'INVALID_REQUEST' as const,
        by: 'the router',
        fault: err.code,
        httpMethod: request.method,
      };
      const source = { address: socket.remoteAddress ?? '', port: socket.remotePort };
      holder.runtime.recorder.record(refusedRequestRecord(refusal, source, transport));
      (reply as FastifyReply).code(400).send(jsonRpcError('INVALID_REQUEST', null));
    },
    bodyLimit: config.limits.maxBodyBytes,
    // Long-lived SSE streams must not keep shutdown waiting forever.
    forceCloseConnections: true,
    return503OnClosing: true,
  });
  // The pipeline reads bodies itself (its limit follows reloads, its refusals are recorded); other
  // routes (the metadata, not-found) have no use for a body either.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', (_req, _payload, done) => done(null, undefined));

  // MCP routes take the request over in onRequest: fastify has routed it, and the pipeline does the
  // rest itself, so content-type parsing and the later hooks would only cost time (about 25 µs a call).
  const mcpRoute = (
    method: 'GET' | 'POST' | 'DELETE',
    url: string,
    handler: (runtime: Runtime, req: IncomingMessage, res: ServerResponse) => Promise<void>,
  ) =>
    app.route({
      method,
      url,
      onRequest: (request, reply, done) => {
        reply.hijack();
        // The pipeline answers its own failures; this only keeps a bug from crashing the process.
        handler(holder.runtime, request.raw, reply.raw).catch(() => reply.raw.destroy());
        done();
      },
      handler: async () => {},
    });

  if (config.upstream.transport === 'sse') {
    const paths = opts.legacyPaths ?? DEFAULT_LEGACY_PATHS;
    const legacy = legacySseHandlers(paths);
    mcpRoute('GET', paths.sse, legacy.stream);
    mcpRoute('POST', paths.message, legacy.message);
  } else {
    const h = streamableHandlers();
    const path = config.listen.path;
    mcpRoute('POST', path, h.post);
    mcpRoute('GET', path, h.get);
    mcpRoute('DELETE', path, h.delete);
  }

  // RFC 9728 protected-resource metadata, in both the path-suffixed and the root form.
  for (const p of holder.authenticator.protectedResource.paths) {
    app.get(p, async (_request, reply) => {
      reply.header('cache-control', 'max-age=300').send(holder.authenticator.protectedResource.document);
    });
  }

  app.setNotFoundHandler((_request, reply) => {
    reply.code(404).send(jsonRpcError('INVALID_REQUEST', null, { reason: 'not an MCP endpoint' }));
  });
  app.setErrorHandler((err: { statusCode?: number }, _request, reply) => {
    const status = err.statusCode !== undefined && err.statusCode >= 400 ? err.statusCode : 500;
    reply.code(status).send(jsonRpcError(status === 413 ? 'BODY_TOO_LARGE' : 'INTERNAL', null));
  });
  return app;
}
