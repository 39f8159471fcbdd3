import { type Attributes, ROOT_CONTEXT, SeverityNumber, TraceFlags, trace } from '@opentelemetry/api';
import { ExportResultCode } from '@opentelemetry/core';
import { OTLPLogExporter } from '@opentelemetry/exporter-logs-otlp-http';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { LoggerProvider, type LogRecordProcessor, type ReadableLogRecord } from '@opentelemetry/sdk-logs';
import type { AuditSink, SinkRecord } from '../sink.ts';
import type { OtlpSinkOptions } from './otlp.ts';

// Audit events as OTLP log records (OTLP/HTTP JSON), imported by otlp.ts. The SDK's logger builds
// the records; instead of its batch processor, which swallows export failures, the records of one
// batch are exported here and the result decides delivered vs retried. Body: the event JSON (verifiable); attributes: the fields a
// collector routes on; trace context: the event's trace, so logs and spans correlate.

const SEVERITY: Record<SinkRecord['event']['outcome'], [SeverityNumber, string]> = {
  allowed: [SeverityNumber.INFO, 'INFO'],
  denied: [SeverityNumber.INFO2, 'INFO'],
  failed: [SeverityNumber.WARN, 'WARN'],
  unauthenticated: [SeverityNumber.WARN, 'WARN'],
};

export type OtlpExport = Pick<AuditSink, 'write' | 'close'>;

export function createOtlpExport(opts: OtlpSinkOptions): OtlpExport {
  const exporter = new OTLPLogExporter({
    ...(opts.endpoint !== undefined ? { url: opts.endpoint } : {}),
    headers: opts.headers,
    timeoutMillis: opts.timeoutMs,
  });
  const collected: ReadableLogRecord[] = [];
  const collector: LogRecordProcessor = {
    onEmit: (record) => {
      collected.push(record);
    },
    forceFlush: async () => {},
    shutdown: async () => {},
  };
  const provider = new LoggerProvider({
    resource: resourceFromAttributes({
      'service.name': 'portcullis-sidecar',
      'service.instance.id': opts.instance,
    }),
    processors: [collector],
  });
  const logger = provider.getLogger('portcullis.audit', '1');

  return {
    async write(batch: readonly SinkRecord[]) {
      collected.length = 0;
      for (const { event, json } of batch) {
        const [severityNumber, severityText] = SEVERITY[event.outcome];
        const attributes: Attributes = {
          'portcullis.audit.seq': event.seq,
          'portcullis.audit.instance': event.instance,
          'portcullis.audit.outcome': event.outcome,
          'mcp.method.name': event.method,
          'portcullis.server': event.server.name,
        };
        if (event.target?.tool !== undefined) attributes['gen_ai.tool.name'] = event.target.tool;
        if (event.session !== undefined) attributes['mcp.session.id'] = event.session;
        const context = event.trace
          ? trace.setSpanContext(ROOT_CONTEXT, {
              traceId: event.trace.traceId,
              spanId: event.trace.spanId,
              traceFlags: TraceFlags.SAMPLED,
            })
          : ROOT_CONTEXT;
        logger.emit({
          eventName: event.type === 'authn.failure' ? 'portcullis.authn.failure' : 'portcullis.audit',
          timestamp: new Date(event.time),
          severityNumber,
          severityText,
          body: json,
          attributes,
          context,
        });
      }
      const records = collected.splice(0);
      await new Promise<void>((resolve, reject) => {
        exporter.export(records, (result) => {
          if (result.code === ExportResultCode.SUCCESS) resolve();
          else reject(result.error ?? new Error('OTLP log export failed'));
        });
      });
    },
    async close() {
      await provider.shutdown();
      await exporter.shutdown();
    },
  };
}
