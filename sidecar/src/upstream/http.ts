import type { EventEmitter } from 'node:events';
import type { Readable } from 'node:stream';
import { errors, Pool } from 'undici';
import { ProxyError } from '../errors.ts';

// The one door to the upstream MCP server: a keep-alive connection pool (undici). Connect and
// first-byte timeouts turn a dead or stuck server into a quick error instead of a hung client;
// the body of a reply may stream for as long as the server keeps it open (SSE).

export interface UpstreamOptions {
  readonly url: string;
  readonly connectTimeoutMs: number;
  readonly requestTimeoutMs: number;
  readonly connections?: number;
}

export interface UpstreamRequest {
  readonly method: 'GET' | 'POST' | 'DELETE';
  /** Path and query; default: the upstream URL's own path. */
  readonly path?: string;
  readonly headers: Record<string, string>;
  readonly body?: string;
  /** Aborts the call on 'abort' (an EventEmitter) or when aborted (an AbortSignal). */
  readonly signal?: AbortSignal | EventEmitter;
}

export interface UpstreamResponse {
  readonly statusCode: number;
  readonly headers: Record<string, string | string[] | undefined>;
  readonly body: Readable;
}

export interface UpstreamClient {
  readonly url: string;
  /** Origin + path of the upstream endpoint. */
  readonly path: string;
  /** Host and port, for telemetry. */
  readonly address: { readonly address: string; readonly port?: number };
  request(req: UpstreamRequest): Promise<UpstreamResponse>;
  close(): Promise<void>;
}

export function createUpstreamClient(opts: UpstreamOptions): UpstreamClient {
  const url = new URL(opts.url);
  const pool = new Pool(url.origin, {
    connections: opts.connections ?? 256,
    connect: { timeout: opts.connectTimeoutMs },
    keepAliveTimeout: 30_000,
    headersTimeout: opts.requestTimeoutMs,
    bodyTimeout: 0,
    pipelining: 1,
  });
  const defaultPath = `${url.pathname}${url.search}`;
  return {
    url: opts.url,
    path: defaultPath,
    address: url.port ? { address: url.hostname, port: Number(url.port) } : { address: url.hostname },
    async request(req) {
      try {
        const res = await pool.request({
          method: req.method,
          path: req.path ?? defaultPath,
          headers: req.headers,
          body: req.body,
          signal: req.signal,
          headersTimeout: opts.requestTimeoutMs,
          bodyTimeout: 0,
        });
        return { statusCode: res.statusCode, headers: res.headers, body: res.body };
      } catch (err) {
        throw toProxyError(err);
      }
    },
    close: () => pool.close(),
  };
}

function toProxyError(err: unknown): ProxyError {
  if (err instanceof errors.HeadersTimeoutError)
    return new ProxyError('UPSTREAM_TIMEOUT', 'no reply in time', { cause: err });
  if (err instanceof errors.ConnectTimeoutError)
    return new ProxyError('UPSTREAM_UNAVAILABLE', 'connect timeout', { cause: err });
  const code = (err as { code?: string }).code;
  return new ProxyError('UPSTREAM_UNAVAILABLE', code ?? (err as Error).message, { cause: err });
}
