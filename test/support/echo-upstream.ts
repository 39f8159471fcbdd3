import { randomUUID } from 'node:crypto';
import {
  createServer,
  type Server as HttpServer,
  type IncomingHttpHeaders,
  type IncomingMessage,
  type ServerResponse,
} from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { Server } from '@modelcontextprotocol/sdk/server/index.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import { CallToolRequestSchema, ListToolsRequestSchema } from '@modelcontextprotocol/sdk/types.js';

// A small SDK-built upstream for tests: tools/list is paginated (page size 3 over `tools`), and the
// `headers` tool answers with the HTTP headers the server received, so a test can see exactly
// what the sidecar forwarded. Every raw request's headers are also kept in `seen`, and the `n`
// argument of every tools/call that arrived in `calls` (-1 when absent), so a test can tell exactly
// which calls the sidecar forwarded and which it refused. A benchmark turns that record off
// (`record: false`): kept for millions of calls it would grow the upstream's heap, and its pauses.

export interface EchoUpstream {
  readonly url: string;
  readonly seen: IncomingHttpHeaders[];
  readonly calls: number[];
  close(): Promise<void>;
}

export const ECHO_TOOLS = ['alpha', 'beta', 'gamma', 'delta', 'epsilon', 'zeta', 'eta', 'headers'] as const;
const PAGE = 3;

function mcpServer(calls: number[] | undefined): Server {
  const server = new Server({ name: 'echo-upstream', version: '1.0.0' }, { capabilities: { tools: {} } });
  server.setRequestHandler(ListToolsRequestSchema, async (req) => {
    const start = Number(req.params?.cursor ?? 0);
    const page = ECHO_TOOLS.slice(start, start + PAGE).map((name) => ({
      name,
      description: `tool ${name}`,
      inputSchema: { type: 'object' as const, properties: {} },
    }));
    const next = start + PAGE < ECHO_TOOLS.length ? String(start + PAGE) : undefined;
    return next === undefined ? { tools: page } : { tools: page, nextCursor: next };
  });
  server.setRequestHandler(CallToolRequestSchema, async (req, extra) => {
    const n = (req.params.arguments as { n?: unknown } | undefined)?.n;
    calls?.push(typeof n === 'number' ? n : -1);
    const text =
      req.params.name === 'headers'
        ? JSON.stringify(extra.requestInfo?.headers ?? {})
        : `called ${req.params.name}`;
    return { content: [{ type: 'text' as const, text }] };
  });
  return server;
}

export async function startEchoUpstream(
  opts: { record?: boolean; tls?: { cert: string; key: string } } = {},
): Promise<EchoUpstream> {
  const record = opts.record ?? true;
  const sessions = new Map<string, StreamableHTTPServerTransport>();
  const seen: IncomingHttpHeaders[] = [];
  const calls: number[] = [];
  const handler = async (req: IncomingMessage, res: ServerResponse) => {
    if (record) seen.push(req.headers);
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
      // An ended session (DELETE) is forgotten, so a long benchmark does not pile them up.
      onsessionclosed: (id) => void sessions.delete(id),
    });
    await mcpServer(record ? calls : undefined).connect(transport);
    await transport.handleRequest(req, res);
  };
  // Over TLS, it stands in for a remote (external) server.
  const http: HttpServer = opts.tls ? createHttpsServer(opts.tls, handler) : createServer(handler);
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
  const port = (http.address() as AddressInfo).port;
  return {
    url: `${opts.tls ? 'https' : 'http'}://127.0.0.1:${port}/mcp`,
    seen,
    calls,
    async close() {
      for (const t of sessions.values()) await t.close();
      http.closeAllConnections();
      await new Promise<void>((resolve) => http.close(() => resolve()));
    },
  };
}
