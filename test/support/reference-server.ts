import { randomUUID } from 'node:crypto';
import { createServer } from 'node:http';
import { InMemoryEventStore } from '@modelcontextprotocol/sdk/examples/shared/inMemoryEventStore.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import { referenceServer } from './reference-handlers.ts';

// The conformance reference server over Streamable HTTP on a free loopback port: one MCP server and
// transport per session, an event store so a closed SSE stream can resume (Last-Event-ID), and the
// SDK's own Host-header check (DNS-rebinding protection), as a compliant local server has.

export interface ReferenceServer {
  readonly url: string;
  /** GET requests that came back with Last-Event-ID (stream resumptions) so far. */
  resumptions(): number;
  close(): Promise<void>;
}

export async function startReferenceServer(): Promise<ReferenceServer> {
  const transports = new Map<string, StreamableHTTPServerTransport>();
  let port = 0;
  let resumptions = 0;
  const http = createServer(async (req, res) => {
    if (new URL(req.url ?? '/', 'http://x').pathname !== '/mcp') {
      res.writeHead(404).end();
      return;
    }
    if (req.method === 'GET' && req.headers['last-event-id'] !== undefined) resumptions++;
    const sessionId = req.headers['mcp-session-id'];
    let transport = typeof sessionId === 'string' ? transports.get(sessionId) : undefined;
    if (sessionId !== undefined && transport === undefined) {
      res.writeHead(404, { 'content-type': 'application/json' });
      res.end(
        JSON.stringify({ jsonrpc: '2.0', id: null, error: { code: -32001, message: 'Session not found' } }),
      );
      return;
    }
    if (transport === undefined) {
      // No session yet: the transport itself refuses anything but initialize.
      const fresh = new StreamableHTTPServerTransport({
        sessionIdGenerator: () => randomUUID(),
        eventStore: new InMemoryEventStore(),
        retryInterval: 100,
        enableDnsRebindingProtection: true,
        allowedHosts: [`127.0.0.1:${port}`, `localhost:${port}`, `[::1]:${port}`],
        onsessioninitialized: (id) => void transports.set(id, fresh),
      });
      fresh.onclose = () => {
        if (fresh.sessionId) transports.delete(fresh.sessionId);
      };
      await referenceServer().connect(fresh);
      transport = fresh;
    }
    await transport.handleRequest(req, res).catch(() => {
      if (!res.headersSent) res.writeHead(500);
      res.end();
    });
  });
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
  port = (http.address() as { port: number }).port;
  return {
    url: `http://127.0.0.1:${port}/mcp`,
    resumptions: () => resumptions,
    async close() {
      await Promise.all([...transports.values()].map((t) => t.close()));
      http.closeAllConnections();
      await new Promise<void>((resolve) => http.close(() => resolve()));
    },
  };
}
