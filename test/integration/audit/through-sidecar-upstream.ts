import { randomUUID } from 'node:crypto';
import { createServer, type Server as HttpServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Server } from '@modelcontextprotocol/sdk/server/index.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import { CallToolRequestSchema, ListToolsRequestSchema } from '@modelcontextprotocol/sdk/types.js';

// An SDK-built MCP server that remembers which calls reached it: every tools/call's `n` argument is
// kept, so a test can tell exactly which calls the sidecar forwarded and which it refused.

export interface CountingUpstream {
  readonly url: string;
  /** The `n` argument of every tools/call that reached this server, in arrival order. */
  readonly calls: number[];
  close(): Promise<void>;
}

export const UPSTREAM_TOOLS = ['alpha', 'beta'] as const;

function mcpServer(calls: number[]): Server {
  const server = new Server({ name: 'counting-upstream', version: '1.0.0' }, { capabilities: { tools: {} } });
  server.setRequestHandler(ListToolsRequestSchema, async () => ({
    tools: UPSTREAM_TOOLS.map((name) => ({
      name,
      description: `tool ${name}`,
      inputSchema: { type: 'object' as const, properties: { n: { type: 'number' as const } } },
    })),
  }));
  server.setRequestHandler(CallToolRequestSchema, async (req) => {
    const n = (req.params.arguments as { n?: unknown } | undefined)?.n;
    calls.push(typeof n === 'number' ? n : -1);
    return { content: [{ type: 'text' as const, text: `called ${req.params.name} ${String(n)}` }] };
  });
  return server;
}

export async function startCountingUpstream(): Promise<CountingUpstream> {
  const sessions = new Map<string, StreamableHTTPServerTransport>();
  const calls: number[] = [];
  const http: HttpServer = createServer(async (req, res) => {
    const sid = req.headers['mcp-session-id'];
    const existing = typeof sid === 'string' ? sessions.get(sid) : undefined;
    if (existing) return existing.handleRequest(req, res);
    if (sid !== undefined) {
      res.writeHead(404).end();
      return;
    }
    const transport: StreamableHTTPServerTransport = new StreamableHTTPServerTransport({
      sessionIdGenerator: () => randomUUID(),
      enableJsonResponse: true,
      onsessioninitialized: (id) => void sessions.set(id, transport),
    });
    await mcpServer(calls).connect(transport);
    await transport.handleRequest(req, res);
  });
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
  const port = (http.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}/mcp`,
    calls,
    async close() {
      for (const t of sessions.values()) await t.close();
      http.closeAllConnections();
      await new Promise<void>((resolve) => http.close(() => resolve()));
    },
  };
}
