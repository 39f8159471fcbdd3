import { createServer, type Server } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTelemetrySdk, type TelemetrySdk } from '../../../sidecar/src/telemetry/sdk.ts';
import { createMcpTracing } from '../../../sidecar/src/telemetry/tracing.ts';

// The OpenTelemetry SDK configured only by OTEL_* variables exports the sidecar's spans to an OTLP/HTTP
// receiver (node:http, parsing OTLP JSON); a real upstream HTTP server sees the trace context in both
// its headers and params._meta.

interface OtlpSpan {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  kind: number;
  attributes: Array<{ key: string; value: { stringValue?: string; intValue?: string | number } }>;
  status?: { code?: number };
}

const spans: OtlpSpan[] = [];
let collector: Server;
let upstream: Server;
let upstreamSeen: { traceparent?: string; meta?: Record<string, unknown> } = {};
let sdk: TelemetrySdk;

const listen = (s: Server) =>
  new Promise<number>((resolve) =>
    s.listen(0, '127.0.0.1', () => resolve((s.address() as { port: number }).port)),
  );

const CALLER_TRACE = '4bf92f3577b34da6a3ce929d0e0e4736';
const CALLER_SPAN = '00f067aa0ba902b7';

beforeAll(async () => {
  collector = createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    if (req.url === '/v1/traces') {
      const body = JSON.parse(Buffer.concat(chunks).toString()) as {
        resourceSpans: Array<{ scopeSpans: Array<{ spans: OtlpSpan[] }> }>;
      };
      for (const rs of body.resourceSpans) for (const ss of rs.scopeSpans) spans.push(...ss.spans);
    }
    res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
  });
  upstream = createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const msg = JSON.parse(Buffer.concat(chunks).toString()) as {
      params: { _meta: Record<string, unknown> };
    };
    upstreamSeen = { traceparent: req.headers.traceparent as string, meta: msg.params._meta };
    res
      .writeHead(200, { 'content-type': 'application/json' })
      .end('{"jsonrpc":"2.0","id":1,"result":{"content":[]}}');
  });
  const collectorPort = await listen(collector);
  Object.assign(process.env, {
    OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${collectorPort}`,
    OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
    OTEL_TRACES_EXPORTER: 'otlp',
    OTEL_SERVICE_NAME: 'portcullis-itest',
  });
  sdk = await startTelemetrySdk({}, { instanceId: 'itest' });
});

afterAll(async () => {
  collector.closeAllConnections();
  collector.close();
  upstream.close();
});

describe('traces exported over OTLP', () => {
  it('exports a server span per message and a client span for the upstream call, linked to the caller', async () => {
    const upstreamPort = await listen(upstream);
    const tracing = createMcpTracing();
    const incomingMeta = { traceparent: `00-${CALLER_TRACE}-${CALLER_SPAN}-01`, progressToken: 1 };
    const msg = {
      method: 'tools/call',
      tool: 'echo',
      sessionId: 'sess-9',
      requestId: 1,
      protocolVersion: '2025-06-18',
    };

    const parent = tracing.extract({}, incomingMeta);
    const server = tracing.startServerSpan(msg, parent, { address: '127.0.0.1', port: 40000 });
    const client = tracing.startUpstreamSpan(msg, server.context, {
      address: '127.0.0.1',
      port: upstreamPort,
    });
    const headers: Record<string, string> = { 'content-type': 'application/json' };
    const meta = tracing.inject(client.context, headers, incomingMeta);
    const res = await fetch(`http://127.0.0.1:${upstreamPort}/mcp`, {
      method: 'POST',
      headers,
      body: JSON.stringify({
        jsonrpc: '2.0',
        id: 1,
        method: 'tools/call',
        params: { name: 'echo', arguments: {}, _meta: meta },
      }),
    });
    await res.text();
    tracing.end(client.span);
    tracing.end(server.span);
    await sdk.shutdown();

    const s = spans.find((x) => x.kind === 2);
    const c = spans.find((x) => x.kind === 3);
    expect(s?.name).toBe('tools/call echo');
    expect(c?.name).toBe('tools/call echo');
    expect(s?.traceId).toBe(CALLER_TRACE);
    expect(s?.parentSpanId).toBe(CALLER_SPAN);
    expect(c?.parentSpanId).toBe(s?.spanId);
    const attrs = Object.fromEntries(
      (s?.attributes ?? []).map((a) => [a.key, a.value.stringValue ?? a.value.intValue]),
    );
    expect(attrs).toMatchObject({
      'mcp.method.name': 'tools/call',
      'gen_ai.tool.name': 'echo',
      'mcp.session.id': 'sess-9',
      'jsonrpc.request.id': '1',
      'mcp.protocol.version': '2025-06-18',
    });
    const expected = `00-${CALLER_TRACE}-${c?.spanId}-01`;
    expect(upstreamSeen.traceparent).toBe(expected);
    expect(upstreamSeen.meta).toEqual({ traceparent: expected, progressToken: 1 });
  });
});
