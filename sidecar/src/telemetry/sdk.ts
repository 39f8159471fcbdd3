import { resourceFromAttributes } from '@opentelemetry/resources';
import { NodeSDK } from '@opentelemetry/sdk-node';
import type { TelemetryConfig } from '../contract/telemetry.ts';

// The OpenTelemetry SDK for traces, configured the standard way: exporter, endpoint, protocol,
// sampler and resource attributes come from OTEL_* environment variables (OTEL_TRACES_EXPORTER=none
// or OTEL_SDK_DISABLED=true turn export off). Metrics stay with Prometheus (admin port) and logs with
// pino and the audit sinks, so the SDK's metric readers and log processors are left empty. Started
// once by the sidecar's main, before the first request; never at import time.

export interface TelemetrySdk {
  shutdown(): Promise<void>;
}

export function startTelemetrySdk(
  cfg: TelemetryConfig | undefined,
  deps: { instanceId: string },
): TelemetrySdk {
  if (cfg?.tracing?.enabled === false) return { shutdown: async () => {} };
  const sdk = new NodeSDK({
    ...(cfg?.serviceName !== undefined ? { serviceName: cfg.serviceName } : {}),
    resource: resourceFromAttributes({
      'service.name': process.env.OTEL_SERVICE_NAME ?? 'portcullis-sidecar',
      'service.instance.id': deps.instanceId,
    }),
    instrumentations: [],
    metricReaders: [],
    logRecordProcessors: [],
  });
  sdk.start();
  return { shutdown: () => sdk.shutdown() };
}
