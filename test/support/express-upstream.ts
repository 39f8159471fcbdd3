import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createMcpExpressApp } from '@modelcontextprotocol/sdk/server/express.js';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { SSEServerTransport } from '@modelcontextprotocol/sdk/server/sse.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
// zod comes with the SDK (its schema language); meta() puts x-mcp-header into the listed inputSchema.
import * as z from 'zod';

// An upstream built the way the MCP SDK documents it: createMcpExpressApp (express.json, that is
// body-parser, which decodes the body in whatever charset its Content-Type names), an McpServer,
// and both transports: stateless Streamable HTTP on /mcp, legacy HTTP+SSE on /sse and /messages. It keeps the raw bytes and headers of every POST it
// received, and what its handlers actually ran, so a test can compare them with what was decided.

export interface ExpressUpstream {
  /** The Streamable HTTP endpoint. */
  readonly url: string;
  /** The legacy HTTP+SSE endpoint. */
  readonly sseUrl: string;
  /** Every POST body as received, byte for byte (UTF-8 decoded for comparison). */
  readonly bodies: string[];
  readonly headers: IncomingHttpHeaders[];
  /** What ran: `tool:<name>` and `read:<uri>`, in order. */
  readonly ran: string[];
  close(): Promise<void>;
}

export const SECRET_URI = 'demo://upstream/secret';
export const PUBLIC_URI = 'demo://upstream/public';

function mcpServer(ran: string[]): McpServer {
  const server = new McpServer({ name: 'express-upstream', version: '1.0.0' });
  for (const name of ['echo', 'get-env']) {
    server.registerTool(name, { description: name }, async () => {
      ran.push(`tool:${name}`);
      return { content: [{ type: 'text', text: `ran ${name}` }] };
    });
  }
  // 2026-07-28: `region` is mirrored in an Mcp-Param-Region header.
  server.registerTool(
    'route',
    { description: 'route', inputSchema: { region: z.string().meta({ 'x-mcp-header': 'Region' }) } },
    async ({ region }) => {
      ran.push(`tool:route:${region}`);
      return { content: [{ type: 'text', text: `routed ${region}` }] };
    },
  );
  for (const [name, uri] of [
    ['secret', SECRET_URI],
    ['public', PUBLIC_URI],
  ] as const) {
    server.registerResource(name, uri, {}, async (u) => {
      ran.push(`read:${u.href}`);
      return { contents: [{ uri: u.href, text: name }] };
    });
  }
  return server;
}

export async function startExpressUpstream(): Promise<ExpressUpstream> {
  const bodies: string[] = [];
  const headers: IncomingHttpHeaders[] = [];
  const ran: string[] = [];
  const app = createMcpExpressApp();
  app.post('/mcp', async (req, res) => {
    const transport = new StreamableHTTPServerTransport({
      sessionIdGenerator: undefined,
      enableJsonResponse: true,
    });
    res.on('close', () => void transport.close());
    await mcpServer(ran).connect(transport);
    await transport.handleRequest(req, res, req.body);
  });
  const legacy = new Map<string, SSEServerTransport>();
  app.get('/sse', async (_req, res) => {
    const transport = new SSEServerTransport('/messages', res);
    legacy.set(transport.sessionId, transport);
    res.on('close', () => legacy.delete(transport.sessionId));
    await mcpServer(ran).connect(transport);
  });
  app.post('/messages', async (req, res) => {
    const transport = legacy.get(String(req.query.sessionId));
    if (transport === undefined) return void res.status(404).end();
    await transport.handlePostMessage(req, res, req.body);
  });
  const http: Server = createServer((req, res) => {
    if (req.method === 'POST') {
      headers.push(req.headers);
      // A second reader of the same stream: body-parser still gets every chunk.
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => bodies.push(Buffer.concat(chunks).toString('utf8')));
    }
    app(req, res);
  });
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
  const port = (http.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}/mcp`,
    sseUrl: `http://127.0.0.1:${port}/sse`,
    bodies,
    headers,
    ran,
    async close() {
      http.closeAllConnections();
      await new Promise<void>((resolve) => http.close(() => resolve()));
    },
  };
}
