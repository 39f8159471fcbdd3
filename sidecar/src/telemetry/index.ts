// The telemetry component's public surface; re-exports only.
export { TelemetryConfig } from '../contract/telemetry.ts';
export {
  createRuleLabels,
  createToolLabels,
  DEFAULT_DENY,
  METHOD_DENIED,
  methodLabel,
  OTHER,
  RULE_LABEL_LIMIT,
  type RuleLabels,
  type ToolLabels,
} from './labels.ts';
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
