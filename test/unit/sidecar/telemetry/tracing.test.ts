import { ROOT_CONTEXT, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import { InMemorySpanExporter, SimpleSpanProcessor, TracerProvider } from '@opentelemetry/sdk-trace';
import { describe, expect, it } from 'vitest';
import { sdkInstalled } from '../../../../sidecar/src/telemetry/sdk.ts';
import { createMcpTracing } from '../../../../sidecar/src/telemetry/tracing.ts';

const TRACE = '0af7651916cd43dd8448eb211c80319c';
const PARENT = 'b7ad6b7169203331';
const traceparent = (span = PARENT) => `00-${TRACE}-${span}-01`;

function setup(propagate = true) {
  const exporter = new InMemorySpanExporter();
  const provider = new TracerProvider({ spanProcessors: [new SimpleSpanProcessor({ exporter })] });
  // Export is asynchronous even with the simple processor: read spans after a flush.
  const finished = async () => {
    await provider.forceFlush();
    return exporter.getFinishedSpans();
  };
  return { finished, tracing: createMcpTracing({ tracer: provider.getTracer('test'), propagate }) };
}

describe('MCP spans', () => {
  it.each([
    {
      name: 'tools/call is named after the tool',
      msg: { method: 'tools/call', tool: 'get_issue' },
      span: 'tools/call get_issue',
    },
    {
      name: 'prompts/get is named after the prompt',
      msg: { method: 'prompts/get', prompt: 'review' },
      span: 'prompts/get review',
    },
    {
      name: 'resources/read keeps the unbounded URI out of the name',
      msg: { method: 'resources/read', resourceUri: 'file:///a' },
      span: 'resources/read',
    },
    { name: 'a method without target', msg: { method: 'tools/list' }, span: 'tools/list' },
  ])('$name', async ({ msg, span }) => {
    const { finished, tracing } = setup();
    const { span: s } = tracing.startServerSpan(msg, ROOT_CONTEXT);
    tracing.end(s);
    expect((await finished())[0]?.name).toBe(span);
  });

  it('sets the conventional attributes and links the upstream client span as a child', async () => {
    const { finished, tracing } = setup();
    const msg = {
      method: 'tools/call',
      tool: 'echo',
      sessionId: 's-1',
      requestId: 5,
      protocolVersion: '2025-06-18',
    };
    const parent = tracing.extract({ traceparent: traceparent() });
    const server = tracing.startServerSpan(msg, parent, { address: '10.0.0.1', port: 5000 });
    const client = tracing.startUpstreamSpan(msg, server.context, { address: '127.0.0.1', port: 9000 });
    tracing.end(client.span);
    tracing.end(server.span, { toolError: true });
    const [c, s] = await finished();
    expect(s?.kind).toBe(SpanKind.SERVER);
    expect(c?.kind).toBe(SpanKind.CLIENT);
    expect(s?.spanContext().traceId).toBe(TRACE);
    expect(s?.parentSpanContext?.spanId).toBe(PARENT);
    expect(c?.parentSpanContext?.spanId).toBe(s?.spanContext().spanId);
    expect(s?.attributes).toMatchObject({
      'mcp.method.name': 'tools/call',
      'mcp.session.id': 's-1',
      'jsonrpc.request.id': '5',
      'mcp.protocol.version': '2025-06-18',
      'gen_ai.tool.name': 'echo',
      'gen_ai.operation.name': 'execute_tool',
      'network.transport': 'tcp',
      'client.address': '10.0.0.1',
      'error.type': 'tool_error',
    });
    expect(s?.status.code).toBe(SpanStatusCode.ERROR);
    expect(c?.attributes).toMatchObject({ 'server.address': '127.0.0.1', 'server.port': 9000 });
  });

  it('records a JSON-RPC error code', async () => {
    const { finished, tracing } = setup();
    const { span } = tracing.startServerSpan({ method: 'tools/call', tool: 'x' }, ROOT_CONTEXT);
    tracing.end(span, { rpcErrorCode: -32003, errorType: 'POLICY_DENIED' });
    expect((await finished())[0]?.attributes).toMatchObject({
      'rpc.response.status_code': '-32003',
      'error.type': 'POLICY_DENIED',
    });
  });
});

describe('trace context propagation', () => {
  it.each([
    { name: 'from headers', headers: { traceparent: traceparent() }, meta: undefined, span: PARENT },
    {
      name: 'from params._meta',
      headers: {},
      meta: { traceparent: traceparent('1111111111111111') },
      span: '1111111111111111',
    },
    {
      name: 'params._meta wins over headers',
      headers: { traceparent: traceparent() },
      meta: { traceparent: traceparent('2222222222222222') },
      span: '2222222222222222',
    },
  ])('extracts $name', ({ headers, meta, span }) => {
    const { tracing } = setup();
    expect(trace.getSpanContext(tracing.extract(headers, meta))?.spanId).toBe(span);
  });

  it('injects the upstream span into headers and a copy of params._meta, keeping tracestate', () => {
    const { tracing } = setup();
    const parent = tracing.extract({ traceparent: traceparent(), tracestate: 'vendor=1' });
    const { context, span } = tracing.startUpstreamSpan({ method: 'tools/call' }, parent, { address: 'up' });
    const headers: Record<string, string> = {};
    const meta = { progressToken: 3, traceparent: 'stale' };
    const out = tracing.inject(context, headers, meta);
    const expected = `00-${TRACE}-${span.spanContext().spanId}-01`;
    expect(headers).toEqual({ traceparent: expected, tracestate: 'vendor=1' });
    expect(out).toEqual({ progressToken: 3, traceparent: expected, tracestate: 'vendor=1' });
    expect(meta.traceparent).toBe('stale');
    expect(tracing.ids(context)).toEqual({ traceId: TRACE, spanId: span.spanContext().spanId });
  });

  it('passes the caller’s trace on even without an SDK (non-recording spans)', () => {
    const tracing = createMcpTracing({ tracer: trace.getTracer('none') });
    const parent = tracing.extract({ traceparent: traceparent() });
    const { context } = tracing.startServerSpan({ method: 'ping' }, parent);
    const headers: Record<string, string> = {};
    tracing.inject(context, headers);
    expect(headers.traceparent).toContain(TRACE);
  });

  it('does not propagate when switched off', () => {
    const { tracing } = setup(false);
    const headers: Record<string, string> = {};
    const parent = tracing.extract({ traceparent: traceparent() });
    expect(tracing.inject(parent, headers, { a: 1 })).toEqual({ a: 1 });
    expect(headers).toEqual({});
  });
});

describe('sdkInstalled', () => {
  it('is false with the API alone and true once an SDK registers its provider', () => {
    expect(sdkInstalled()).toBe(false);
    const provider = new TracerProvider();
    expect(trace.setGlobalTracerProvider(provider)).toBe(true);
    try {
      expect(sdkInstalled()).toBe(true);
    } finally {
      trace.disable();
    }
    expect(sdkInstalled()).toBe(false);
  });
});
