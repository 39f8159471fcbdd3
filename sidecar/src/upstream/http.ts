import type { EventEmitter } from 'node:events';
import type { Readable } from 'node:stream';
import { errors, Pool } from 'undici';
import { ProxyError } from '../errors.ts';
import { circuitBreaker } from './circuit-breaker.ts';

// The one door to the upstream MCP server: a keep-alive connection pool (undici). Connect and
// first-byte timeouts turn a dead or stuck server into a quick error instead of a hung client;
// the body of a reply may stream for as long as the server keeps it open (SSE). After repeated
// connect failures or timeouts in a row a circuit breaker fails calls at once for a while, so a dead
// upstream (a remote one above all) costs callers a quick JSON-RPC error, not a connect timeout each.

export interface UpstreamOptions {
  readonly url: string;
  readonly connectTimeoutMs: number;
  readonly requestTimeoutMs: number;
  readonly connections?: number;
  /** https only: the CA bundle (PEM text) the certificate must chain to, and the name to check. */
  readonly tls?: { readonly ca?: string; readonly serverName?: string };
  /** Consecutive failures that open the circuit, and how long it stays open (upstream.circuitBreaker). */
  readonly breaker: { readonly failures: number; readonly cooldownMs: number };
  readonly now?: () => number;
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
    connect: {
      timeout: opts.connectTimeoutMs,
      ...(opts.tls?.ca !== undefined ? { ca: opts.tls.ca } : {}),
      ...(opts.tls?.serverName !== undefined ? { servername: opts.tls.serverName } : {}),
    },
    keepAliveTimeout: 30_000,
    headersTimeout: opts.requestTimeoutMs,
    bodyTimeout: 0,
    pipelining: 1,
  });
  const defaultPath = `${url.pathname}${url.search}`;
  const breaker = circuitBreaker(opts.breaker.failures, opts.breaker.cooldownMs, opts.now);
  return {
    url: opts.url,
    path: defaultPath,
    address: url.port ? { address: url.hostname, port: Number(url.port) } : { address: url.hostname },
    async request(req) {
      if (!breaker.tryAcquire()) throw new ProxyError('UPSTREAM_UNAVAILABLE', 'circuit open');
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
        breaker.success();
        return { statusCode: res.statusCode, headers: res.headers, body: res.body };
      } catch (err) {
        // A call the client gave up on says nothing about the upstream.
        if (isAbort(err)) breaker.cancel();
        else breaker.failure();
        throw toProxyError(err);
      }
    },
    close: () => pool.close(),
  };
}

function isAbort(err: unknown): boolean {
  return err instanceof errors.RequestAbortedError || (err as Error).name === 'AbortError';
}

function toProxyError(err: unknown): ProxyError {
  if (err instanceof errors.HeadersTimeoutError)
    return new ProxyError('UPSTREAM_TIMEOUT', 'no reply in time', { cause: err });
  if (err instanceof errors.ConnectTimeoutError)
    return new ProxyError('UPSTREAM_UNAVAILABLE', 'connect timeout', { cause: err });
  const code = (err as { code?: string }).code;
  return new ProxyError('UPSTREAM_UNAVAILABLE', code ?? (err as Error).message, { cause: err });
}
