import type { Context, Span } from '@opentelemetry/api';
import type { McpTracing } from '../telemetry/tracing.ts';
import type { Exchange } from './exchange.ts';

// Trace context around an exchange: one SERVER span per MCP message (parent from params._meta or
// the HTTP headers), one CLIENT span for the upstream call, and W3C context written into the
// upstream request. Used only with an installed OpenTelemetry SDK: without one the runtime has no
// tracing, and the caller's context passes through as it came (see finish in run.ts).

export interface ExchangeTrace {
  readonly spans: { span: Span; context: Context }[];
}

export function startMessageSpans(ex: Exchange, tracing: McpTracing): ExchangeTrace {
  const spans = ex.messages.map(({ msg, record }) => {
    const meta =
      msg.kind === 'response' ? undefined : (msg.params?._meta as Record<string, unknown> | undefined);
    const parent = tracing.extract(ex.req.headers as Record<string, unknown>, meta);
    const started = tracing.startServerSpan(
      {
        method: record.method,
        tool: record.target?.tool,
        prompt: record.target?.prompt,
        resourceUri: record.target?.resource,
        sessionId: ex.sessionId,
        requestId: record.jsonrpcId,
        protocolVersion: ex.protocolVersion,
        transport: ex.runtime.config.upstream.transport === 'stdio' ? 'stdio' : ex.transport,
      },
      parent,
      { address: ex.req.socket.remoteAddress, port: ex.req.socket.remotePort },
    );
    const ids = tracing.ids(started.context);
    if (ids) record.traceparent = `00-${ids.traceId}-${ids.spanId}-01`;
    return started;
  });
  return { spans };
}

/** Starts the upstream CLIENT span and writes its context into the upstream headers. */
export function traceUpstream(
  ex: Exchange,
  tracing: McpTracing,
  trace: ExchangeTrace,
  headers: Record<string, string>,
): Span | undefined {
  const first = trace.spans[0];
  const record = ex.messages[0]?.record;
  if (first === undefined || record === undefined) return undefined;
  const client = tracing.startUpstreamSpan(
    {
      method: record.method,
      tool: record.target?.tool,
      prompt: record.target?.prompt,
      requestId: record.jsonrpcId,
    },
    first.context,
    ex.runtime.upstream.address,
  );
  if (ex.runtime.config.telemetry?.tracing?.propagateToUpstream !== false) {
    tracing.inject(client.context, headers);
    // params._meta carries the context too (the MCP convention); rewriting the body costs a
    // serialization, so only for a single request or notification (a response has no params: adding
    // them makes it invalid) whose span is actually recorded.
    const body = ex.parsed as { params?: Record<string, unknown> } | undefined;
    if (
      client.span.isRecording() &&
      !ex.batch &&
      record.kind !== 'response' &&
      body !== undefined &&
      typeof body === 'object'
    ) {
      const params = body.params ?? {};
      const meta = tracing.inject(
        client.context,
        {},
        (params._meta as Record<string, unknown> | undefined) ?? {},
      );
      ex.body = JSON.stringify({ ...body, params: { ...params, _meta: meta } });
    }
  }
  return client.span;
}

export function endMessageSpans(ex: Exchange, tracing: McpTracing, trace: ExchangeTrace): void {
  for (const [i, { span }] of trace.spans.entries()) {
    const record = ex.messages[i]?.record;
    if (record === undefined) continue;
    tracing.end(span, {
      rpcErrorCode: record.result?.errorCode,
      toolError: record.result?.isError === true && record.result.errorCode === undefined,
      errorType: typeof record.errorCode === 'string' ? record.errorCode : undefined,
      message: record.outcome === 'allowed' ? undefined : record.outcome,
    });
  }
}
