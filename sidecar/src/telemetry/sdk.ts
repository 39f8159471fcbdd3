import { ProxyTracerProvider, trace } from '@opentelemetry/api';
import type { TelemetryConfig } from '../contract/telemetry.ts';

// The OpenTelemetry SDK for traces, configured the standard way: exporter, endpoint, protocol,
// sampler and resource attributes come from OTEL_* environment variables. Metrics stay with
// Prometheus (admin port) and logs with pino and the audit sinks, so the SDK's metric readers and
// log processors are left empty. Started once by the sidecar's main, before the first request;
// never at import time.
//
// The SDK (with its exporters, gRPC included) is about a third of a bare sidecar's memory, so it is
// loaded only when spans have somewhere to go: an OTLP endpoint or an explicit exporter. Without
// one the sidecar makes no spans at all (sdkInstalled) rather than export to a default
// localhost:4318 that nothing listens on in a pod.

export interface TelemetrySdk {
  shutdown(): Promise<void>;
}

type Env = Readonly<Record<string, string | undefined>>;

const set = (v: string | undefined) => v !== undefined && v.trim() !== '';

/** Whether a configuration and environment export traces, and so need the SDK. */
export function tracesWanted(cfg: TelemetryConfig | undefined, env: Env): boolean {
  if (cfg?.tracing?.enabled === false) return false;
  if (env.OTEL_SDK_DISABLED?.trim().toLowerCase() === 'true') return false;
  const exporters = env.OTEL_TRACES_EXPORTER;
  if (set(exporters))
    return (exporters as string).split(',').some((e) => e.trim() !== '' && e.trim() !== 'none');
  return set(env.OTEL_EXPORTER_OTLP_ENDPOINT) || set(env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT);
}

export async function startTelemetrySdk(
  cfg: TelemetryConfig | undefined,
  deps: { instanceId: string; env?: Env },
): Promise<TelemetrySdk> {
  const env = deps.env ?? process.env;
  if (!tracesWanted(cfg, env)) return { shutdown: async () => {} };
  const [{ NodeSDK }, { resourceFromAttributes }] = await Promise.all([
    import('@opentelemetry/sdk-node'),
    import('@opentelemetry/resources'),
  ]);
  const sdk = new NodeSDK({
    ...(cfg?.serviceName !== undefined ? { serviceName: cfg.serviceName } : {}),
    resource: resourceFromAttributes({
      'service.name': env.OTEL_SERVICE_NAME ?? 'portcullis-sidecar',
      'service.instance.id': deps.instanceId,
    }),
    instrumentations: [],
    metricReaders: [],
    logRecordProcessors: [],
  });
  sdk.start();
  return { shutdown: () => sdk.shutdown() };
}

/** What the API's global provider hands on to while no SDK has registered one. */
const NO_SDK = new ProxyTracerProvider().getDelegate();

/**
 * Whether an OpenTelemetry SDK is installed. Without one every span is a no-op, so the pipeline skips
 * span bookkeeping altogether: the caller's traceparent still reaches the upstream (headers are passed
 * on, `_meta` is in the body) and the audit record (see the pipeline's finish).
 */
export function sdkInstalled(): boolean {
  const provider = trace.getTracerProvider();
  return !(provider instanceof ProxyTracerProvider && provider.getDelegate() === NO_SDK);
}
