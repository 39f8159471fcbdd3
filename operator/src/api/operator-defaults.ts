import Type from 'typebox';
import { Compile } from 'typebox/compile';
import { AuditConfig, Authentication, Limits, TelemetryConfig } from '../../../sidecar/src/contract/index.ts';
import { Quantity } from './kube-types.ts';

// OperatorDefaults: the settings the cluster owns (Helm values / operator flags), not namespace owners:
// the sidecar image, identity providers, audit sinks, telemetry, monitoring. Renderers take them as input.

const port = (description: string, defaultPort: number) =>
  Type.Integer({ minimum: 1, maximum: 65535, default: defaultPort, description });

const resources = (requests: Record<string, string>, limits: Record<string, string>, description: string) =>
  Type.Object(
    {
      requests: Type.Record(Type.String(), Quantity, { default: requests }),
      limits: Type.Record(Type.String(), Quantity, { default: limits }),
    },
    { default: { requests, limits }, description },
  );

export const OperatorDefaults = Type.Object(
  {
    clusterDomain: Type.String({
      default: 'cluster.local',
      description: 'DNS domain of in-cluster Service names.',
    }),
    sidecar: Type.Object(
      {
        image: Type.String({ minLength: 1, description: 'Image of the Portcullis sidecar.' }),
        imagePullPolicy: Type.Union(
          [Type.Literal('Always'), Type.Literal('IfNotPresent'), Type.Literal('Never')],
          {
            default: 'IfNotPresent',
          },
        ),
        port: port('Port of the MCP endpoint the sidecar serves (the Service port `mcp` leads here).', 8080),
        adminPort: port('Port of /metrics, /healthz and /readyz.', 9090),
        servicePort: port('Port of the Service in front of the sidecar.', 80),
        runAsUser: Type.Integer({ minimum: 1, default: 65532, description: 'UID of the sidecar (not 0).' }),
        logLevel: Type.Enum(['trace', 'debug', 'info', 'warn', 'error', 'fatal'], {
          default: 'info',
          description: "The sidecar's log level (its LOG_LEVEL).",
        }),
        resources: resources(
          { cpu: '50m', memory: '64Mi' },
          { memory: '256Mi' },
          'Resources of the sidecar.',
        ),
        tokenAudience: Type.String({
          minLength: 1,
          default: 'https://kubernetes.default.svc.cluster.local',
          description: "Audience of the sidecar's projected ServiceAccount token (the API server's).",
        }),
        tokenExpirationSeconds: Type.Integer({ minimum: 600, default: 3600 }),
      },
      { description: 'The injected sidecar.' },
    ),
    mcpServer: Type.Object(
      {
        resources: resources(
          { cpu: '100m', memory: '128Mi' },
          { memory: '512Mi' },
          'Resources of MCP server containers whose McpServer sets none.',
        ),
      },
      { default: {} },
    ),
    authentication: Type.Object(
      {
        oidc: Type.Array(Authentication.properties.oidc.items, {
          default: [],
          description: "The cluster's identity providers, trusted by every sidecar.",
        }),
        serviceAccounts: Authentication.properties.serviceAccounts,
        requiredScopes: Type.Optional(Type.Array(Type.String())),
      },
      { default: {} },
    ),
    audit: Type.Object(AuditConfig.properties, {
      default: {},
      description:
        "The sidecar's audit section (sinks, failure mode, payload capture): cluster-owned, an McpServer may only raise payloads.capture.",
    }),
    telemetry: Type.Object(
      {
        otlpEndpoint: Type.Optional(
          Type.String({
            pattern: '^https?://',
            description:
              'OTLP/HTTP endpoint for traces, given to the sidecar as OTEL_EXPORTER_OTLP_ENDPOINT.',
          }),
        ),
        sidecar: Type.Object(TelemetryConfig.properties, {
          default: {},
          description: "The sidecar's telemetry section, passed through as is.",
        }),
      },
      { default: {} },
    ),
    limits: Type.Optional(Limits),
    monitoring: Type.Object(
      {
        namespace: Type.Optional(
          Type.String({ minLength: 1, description: 'Namespace whose pods may scrape the metrics port.' }),
        ),
      },
      { default: {} },
    ),
  },
  { additionalProperties: false },
);
export type OperatorDefaults = Type.Static<typeof OperatorDefaults>;

export class OperatorDefaultsError extends Error {
  readonly code = 'OPERATOR_DEFAULTS_INVALID';
}

const compiled = Compile(OperatorDefaults);

/** Validates operator settings once at start-up, filling defaults; fails with the path of each fault. */
export function parseOperatorDefaults(input: unknown): OperatorDefaults {
  const value = compiled.Default(structuredClone(input));
  if (!compiled.Check(value)) {
    const faults = [...compiled.Errors(value)].map((e) => `${e.instancePath || '/'}: ${e.message}`);
    throw new OperatorDefaultsError(`invalid operator settings: ${faults.join('; ')}`);
  }
  // JSON Schema cannot compare two fields; both ports are in one pod, so they must differ.
  const { port, adminPort } = value.sidecar;
  if (port === adminPort) {
    throw new OperatorDefaultsError(
      `invalid operator settings: /sidecar/adminPort: must differ from /sidecar/port (both are ${port})`,
    );
  }
  return value;
}
