import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Registry } from 'prom-client';

// /healthz (the process is serving), /readyz (the operator can do its job: a standby replica is
// ready, a leader once its caches are synced), /leaderz (200 on the leader, 503 on a standby, so a
// person or a script can tell them apart; readiness must stay 200 on both or a rollout of standbys
// would never finish) and /metrics, on one small port apart from anything else. Plain node:http:
// four fixed routes need no framework.

export interface HealthChecks {
  live: () => boolean;
  ready: () => { ok: boolean; reason: string };
  leading: () => boolean;
}

export interface HealthServer {
  readonly port: number;
  close(): Promise<void>;
}

export async function startHealthServer(
  host: string,
  port: number,
  checks: HealthChecks,
  registry: Registry,
): Promise<HealthServer> {
  const server: Server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    const reply = (status: number, body: string, type = 'text/plain; charset=utf-8') => {
      res.writeHead(status, { 'content-type': type, 'cache-control': 'no-store' });
      res.end(body);
    };
    if (req.method !== 'GET' && req.method !== 'HEAD') return reply(405, 'method not allowed\n');
    switch (path) {
      case '/healthz':
      case '/livez':
        return checks.live() ? reply(200, 'ok\n') : reply(503, 'not live\n');
      case '/readyz': {
        const { ok, reason } = checks.ready();
        return reply(ok ? 200 : 503, `${reason}\n`);
      }
      case '/leaderz':
        return checks.leading() ? reply(200, 'leader\n') : reply(503, 'standby\n');
      case '/metrics':
        registry.metrics().then(
          (text) => reply(200, text, registry.contentType),
          () => reply(500, 'metrics unavailable\n'),
        );
        return;
      default:
        return reply(404, 'not found\n');
    }
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  return {
    port: (server.address() as AddressInfo).port,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
