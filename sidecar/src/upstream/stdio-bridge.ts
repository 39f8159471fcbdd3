import { randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { getDefaultEnvironment, StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import type { Logger } from 'pino';
import type { EffectiveConfig } from '../config/load.ts';

// A stdio MCP server as a Streamable HTTP upstream: a loopback-only HTTP endpoint where each MCP
// session gets its own child process (stdio servers serve one client). The proxy then treats it as
// any other upstream, so every stage applies unchanged. The SDK's transports do the framing.

export interface StdioBridge {
  readonly url: string;
  readonly sessions: number;
  close(): Promise<void>;
}

interface BridgedSession {
  readonly http: StreamableHTTPServerTransport;
  readonly child: StdioClientTransport;
}

export async function startStdioBridge(
  upstream: EffectiveConfig['upstream'],
  deps: { logger?: Logger | undefined },
): Promise<StdioBridge> {
  const command = upstream.command as string;
  const live = new Map<string, BridgedSession>();

  const open = async (): Promise<StreamableHTTPServerTransport> => {
    const child = new StdioClientTransport({
      command,
      args: upstream.args ?? [],
      env: { ...getDefaultEnvironment(), ...upstream.env },
      stderr: 'inherit',
    });
    const http: StreamableHTTPServerTransport = new StreamableHTTPServerTransport({
      sessionIdGenerator: () => randomUUID(),
      onsessioninitialized: (id) => {
        live.set(id, { http, child });
      },
    });
    http.onmessage = (msg) =>
      void child.send(msg).catch((err) => deps.logger?.warn({ err }, 'stdio upstream write failed'));
    child.onmessage = (msg) => void http.send(msg).catch(() => {});
    http.onclose = () => {
      if (http.sessionId) live.delete(http.sessionId);
      void child.close();
    };
    child.onclose = () => void http.close();
    child.onerror = (err) => deps.logger?.warn({ err }, 'stdio upstream error');
    await child.start();
    await http.start();
    return http;
  };

  const server: Server = createServer((req, res) => {
    const sid = req.headers['mcp-session-id'];
    const existing = typeof sid === 'string' ? live.get(sid) : undefined;
    if (existing) {
      void existing.http.handleRequest(req, res);
      return;
    }
    if (sid === undefined && req.method === 'POST') {
      open()
        .then((http) => http.handleRequest(req, res))
        .catch((err) => {
          deps.logger?.error({ err }, 'cannot start the stdio MCP server');
          if (!res.headersSent) res.writeHead(502, { 'content-type': 'application/json' });
          res.end(
            JSON.stringify({
              jsonrpc: '2.0',
              id: null,
              error: { code: -32603, message: 'stdio server failed to start' },
            }),
          );
        });
      return;
    }
    res.writeHead(404, { 'content-type': 'application/json' });
    res.end(
      JSON.stringify({ jsonrpc: '2.0', id: null, error: { code: -32001, message: 'Session not found' } }),
    );
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}/mcp`,
    get sessions() {
      return live.size;
    },
    async close() {
      for (const s of live.values()) await s.http.close().catch(() => {});
      live.clear();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
