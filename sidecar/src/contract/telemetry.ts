import Type from 'typebox';

// The telemetry section of the sidecar configuration. Where traces go is set by the standard OTEL_*
// environment variables (OTEL_EXPORTER_OTLP_ENDPOINT, OTEL_TRACES_EXPORTER, OTEL_TRACES_SAMPLER, ...);
// this section only says what the sidecar itself does.

export const TelemetryConfig = Type.Object(
  {
    serviceName: Type.Optional(
      Type.String({
        minLength: 1,
        description: "service.name of spans; default OTEL_SERVICE_NAME or 'portcullis-sidecar'.",
      }),
    ),
    tracing: Type.Optional(
      Type.Object(
        {
          enabled: Type.Optional(
            Type.Boolean({ description: 'Default true; OTEL_SDK_DISABLED=true also turns it off.' }),
          ),
          propagateToUpstream: Type.Optional(
            Type.Boolean({
              description: 'Pass W3C trace context upstream in headers and params._meta (default true).',
            }),
          ),
        },
        { additionalProperties: false },
      ),
    ),
    metrics: Type.Optional(
      Type.Object(
        {
          toolLabelLimit: Type.Optional(
            Type.Integer({
              minimum: 0,
              maximum: 1000,
              description: 'Distinct tool label values before the rest fold into "other" (default 100).',
            }),
          ),
        },
        { additionalProperties: false },
      ),
    ),
  },
  { additionalProperties: false },
);
export type TelemetryConfig = Type.Static<typeof TelemetryConfig>;
