import Fastify, { type FastifyInstance } from 'fastify';
import type { Registry } from 'prom-client';

// The admin port: health, readiness and Prometheus metrics, apart from MCP traffic so a
// NetworkPolicy can admit the monitoring namespace here and callers only to the MCP port.

export interface AdminOptions {
  readonly registry: Registry;
  readonly ready: () => boolean;
}

export function createAdminApp(opts: AdminOptions): FastifyInstance {
  const app = Fastify({ logger: false });
  app.get('/healthz', async () => ({ status: 'ok' }));
  app.get('/readyz', async (_request, reply) => {
    const ready = opts.ready();
    reply.code(ready ? 200 : 503).send({ status: ready ? 'ready' : 'not ready' });
  });
  app.get('/metrics', async (_request, reply) => {
    reply.header('content-type', opts.registry.contentType).send(await opts.registry.metrics());
  });
  return app;
}
