// The telemetry component's public surface; re-exports only.
export { TelemetryConfig } from './config.ts';
export { createToolLabels, methodLabel, OTHER, type ToolLabels } from './labels.ts';
export { createSidecarMetrics, type SidecarMetrics } from './metrics.ts';
export { createMetricsRecorder } from './metrics-recorder.ts';
export { startTelemetrySdk, type TelemetrySdk } from './sdk.ts';
export {
  createMcpTracing,
  type McpMessageInfo,
  type McpTracing,
  type SpanOutcome,
  withContext,
} from './tracing.ts';
