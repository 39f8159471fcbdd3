import { describe, expect, it } from 'vitest';
import type { TelemetryConfig } from '../../../../sidecar/src/contract/telemetry.ts';
import { tracesWanted } from '../../../../sidecar/src/telemetry/sdk.ts';

// The OpenTelemetry SDK is loaded only when spans have somewhere to go.

const cases: Array<[string, TelemetryConfig | undefined, Record<string, string>, boolean]> = [
  ['no endpoint and no exporter: nothing to export to', undefined, {}, false],
  ['an OTLP endpoint', undefined, { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318' }, true],
  ['a traces endpoint', {}, { OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'http://c:4318/v1/traces' }, true],
  ['an explicit exporter without an endpoint (console)', {}, { OTEL_TRACES_EXPORTER: 'console' }, true],
  [
    'exporter none wins over an endpoint',
    {},
    { OTEL_TRACES_EXPORTER: 'none', OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c' },
    false,
  ],
  ['a list with one real exporter', {}, { OTEL_TRACES_EXPORTER: 'none, otlp' }, true],
  ['an empty endpoint is unset', {}, { OTEL_EXPORTER_OTLP_ENDPOINT: ' ' }, false],
  ['OTEL_SDK_DISABLED', {}, { OTEL_SDK_DISABLED: 'TRUE', OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c' }, false],
  [
    'tracing.enabled: false',
    { tracing: { enabled: false } },
    { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c' },
    false,
  ],
];

describe('tracesWanted', () => {
  it.each(cases)('%s', (_name, cfg, env, wanted) => {
    expect(tracesWanted(cfg, env)).toBe(wanted);
  });
});
