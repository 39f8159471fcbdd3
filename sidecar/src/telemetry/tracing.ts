import {
  type Context,
  context as contextApi,
  ROOT_CONTEXT,
  type Span,
  SpanKind,
  SpanStatusCode,
  type TextMapGetter,
  type TextMapSetter,
  type Tracer,
  trace,
} from '@opentelemetry/api';
import { W3CTraceContextPropagator } from '@opentelemetry/core';

// Spans per the OpenTelemetry MCP semantic conventions: a SERVER span per MCP message named
// `{mcp.method.name} {target}` (target = tool or prompt name; never the resource URI, which is
// unbounded), and a CLIENT span for the upstream call. W3C trace context is read from params._meta
// (the MCP convention, preferred: it belongs to the message) or else the HTTP headers, and written
// into both for the upstream. The propagator is our own instance. Without an installed SDK the
// sidecar makes no spans at all (sdk.ts, sdkInstalled), and the caller's context passes through as it came.

export const ATTR = {
  methodName: 'mcp.method.name',
  sessionId: 'mcp.session.id',
  protocolVersion: 'mcp.protocol.version',
  resourceUri: 'mcp.resource.uri',
  requestId: 'jsonrpc.request.id',
  toolName: 'gen_ai.tool.name',
  promptName: 'gen_ai.prompt.name',
  operationName: 'gen_ai.operation.name',
  errorType: 'error.type',
  rpcStatusCode: 'rpc.response.status_code',
  networkTransport: 'network.transport',
  networkProtocolName: 'network.protocol.name',
  networkProtocolVersion: 'network.protocol.version',
  clientAddress: 'client.address',
  clientPort: 'client.port',
  serverAddress: 'server.address',
  serverPort: 'server.port',
} as const;

export interface McpMessageInfo {
  method: string;
  tool?: string | undefined;
  prompt?: string | undefined;
  resourceUri?: string | undefined;
  sessionId?: string | undefined;
  requestId?: string | number | null | undefined;
  protocolVersion?: string | undefined;
  transport?: 'streamable-http' | 'sse' | 'stdio';
}

export interface SpanOutcome {
  /** JSON-RPC error code of the answer, if it was an error. */
  rpcErrorCode?: number | undefined;
  /** A tools/call result with isError: true. */
  toolError?: boolean | undefined;
  /** The proxy's own error code (POLICY_DENIED, UPSTREAM_TIMEOUT, ...) or an exception type. */
  errorType?: string | undefined;
  message?: string | undefined;
}

type Carrier = Record<string, unknown>;

const headerGetter: TextMapGetter<Carrier> = {
  keys: (c) => Object.keys(c),
  get: (c, key) => {
    const v = c[key] ?? c[key.toLowerCase()];
    return typeof v === 'string' || Array.isArray(v) ? (v as string | string[]) : undefined;
  },
};
const setter: TextMapSetter<Carrier> = {
  set: (c, key, value) => {
    c[key] = value;
  },
};

export interface McpTracing {
  /** Incoming context: params._meta first, then HTTP headers. */
  extract(headers: Carrier, meta?: Carrier | undefined): Context;
  startServerSpan(
    msg: McpMessageInfo,
    parent: Context,
    peer?: { address?: string | undefined; port?: number | undefined },
  ): { span: Span; context: Context };
  startUpstreamSpan(
    msg: McpMessageInfo,
    parent: Context,
    upstream: { address: string; port?: number },
  ): { span: Span; context: Context };
  /** Writes traceparent/tracestate into the upstream headers and, if given, a copy of params._meta. */
  inject(ctx: Context, headers: Record<string, string>, meta?: Carrier | undefined): Carrier | undefined;
  end(span: Span, outcome?: SpanOutcome): void;
  /** Trace and span ids for the audit event, when the context carries a valid span. */
  ids(ctx: Context): { traceId: string; spanId: string } | undefined;
}

export function createMcpTracing(opts: { tracer?: Tracer; propagate?: boolean } = {}): McpTracing {
  const tracer = opts.tracer ?? trace.getTracer('portcullis-sidecar');
  const propagate = opts.propagate ?? true;
  const w3c = new W3CTraceContextPropagator();

  function attributes(msg: McpMessageInfo): Record<string, string> {
    const a: Record<string, string> = { [ATTR.methodName]: msg.method };
    if (msg.sessionId !== undefined) a[ATTR.sessionId] = msg.sessionId;
    if (msg.requestId !== undefined && msg.requestId !== null) a[ATTR.requestId] = String(msg.requestId);
    if (msg.protocolVersion !== undefined) a[ATTR.protocolVersion] = msg.protocolVersion;
    if (msg.tool !== undefined) a[ATTR.toolName] = msg.tool;
    if (msg.prompt !== undefined) a[ATTR.promptName] = msg.prompt;
    if (msg.resourceUri !== undefined) a[ATTR.resourceUri] = msg.resourceUri;
    if (msg.method === 'tools/call') a[ATTR.operationName] = 'execute_tool';
    if (msg.transport === 'stdio') a[ATTR.networkTransport] = 'pipe';
    else {
      a[ATTR.networkTransport] = 'tcp';
      a[ATTR.networkProtocolName] = 'http';
    }
    return a;
  }

  const spanName = (msg: McpMessageInfo) => {
    const target = msg.tool ?? msg.prompt;
    return target === undefined ? msg.method : `${msg.method} ${target}`;
  };

  return {
    extract(headers, meta) {
      if (meta && typeof meta.traceparent === 'string') return w3c.extract(ROOT_CONTEXT, meta, headerGetter);
      return w3c.extract(ROOT_CONTEXT, headers, headerGetter);
    },
    startServerSpan(msg, parent, peer) {
      const attrs: Record<string, string | number> = attributes(msg);
      if (peer?.address !== undefined) attrs[ATTR.clientAddress] = peer.address;
      if (peer?.port !== undefined) attrs[ATTR.clientPort] = peer.port;
      const span = tracer.startSpan(spanName(msg), { kind: SpanKind.SERVER, attributes: attrs }, parent);
      return { span, context: trace.setSpan(parent, span) };
    },
    startUpstreamSpan(msg, parent, upstream) {
      const attrs: Record<string, string | number> = attributes(msg);
      attrs[ATTR.serverAddress] = upstream.address;
      if (upstream.port !== undefined) attrs[ATTR.serverPort] = upstream.port;
      const span = tracer.startSpan(spanName(msg), { kind: SpanKind.CLIENT, attributes: attrs }, parent);
      return { span, context: trace.setSpan(parent, span) };
    },
    inject(ctx, headers, meta) {
      if (!propagate) return meta;
      w3c.inject(ctx, headers, setter as TextMapSetter<Record<string, string>>);
      if (meta === undefined) return undefined;
      const copy: Carrier = { ...meta };
      delete copy.traceparent;
      delete copy.tracestate;
      w3c.inject(ctx, copy, setter);
      return copy;
    },
    end(span, outcome) {
      if (outcome) {
        const type =
          outcome.errorType ??
          (outcome.rpcErrorCode !== undefined
            ? String(outcome.rpcErrorCode)
            : outcome.toolError
              ? 'tool_error'
              : undefined);
        if (outcome.rpcErrorCode !== undefined)
          span.setAttribute(ATTR.rpcStatusCode, String(outcome.rpcErrorCode));
        if (type !== undefined) {
          span.setAttribute(ATTR.errorType, type);
          span.setStatus({
            code: SpanStatusCode.ERROR,
            ...(outcome.message ? { message: outcome.message } : {}),
          });
        }
      }
      span.end();
    },
    ids(ctx) {
      const sc = trace.getSpanContext(ctx);
      if (!sc || !trace.isSpanContextValid(sc)) return undefined;
      return { traceId: sc.traceId, spanId: sc.spanId };
    },
  };
}

/** Runs fn with ctx active, for code (undici, the SDK) that reads the active context. */
export function withContext<T>(ctx: Context, fn: () => T): T {
  return contextApi.with(ctx, fn);
}
