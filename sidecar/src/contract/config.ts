import Type from 'typebox';
import { AuditConfig } from './audit.ts';
import { Authentication } from './authentication.ts';
import { ms, port } from './fields.ts';
import { PinningConfig } from './pinning.ts';
import { PolicyRule } from './policy-rule.ts';
import { TelemetryConfig } from './telemetry.ts';
import { Upstream } from './upstream.ts';

// The sidecar's configuration file: the contract between operator (which renders it into a
// ConfigMap) and sidecar (which validates and enforces it). This file holds the top level and the
// small sections; each larger section has its own module in contract/.

export const CONFIG_API_VERSION = 'sidecar.portcullis.dev/v1alpha1';

export const Listen = Type.Object(
  {
    host: Type.String({
      default: '0.0.0.0',
      description: 'Address to listen on; on a loopback address the Host header is checked too.',
    }),
    port: port('Port the MCP endpoint listens on.'),
    path: Type.String({ pattern: '^/', default: '/mcp', description: 'Path of the MCP endpoint.' }),
  },
  { additionalProperties: false },
);

export const Admin = Type.Object(
  {
    host: Type.String({ default: '0.0.0.0' }),
    port: port('Port for /metrics, /healthz and /readyz, apart from MCP traffic.'),
  },
  { additionalProperties: false },
);

export const Limits = Type.Object(
  {
    maxBodyBytes: Type.Integer({
      minimum: 1024,
      default: 4 * 1024 * 1024,
      description: 'Request body size limit (413 above it).',
    }),
    maxJsonDepth: Type.Integer({
      minimum: 2,
      maximum: 1000,
      default: 64,
      description: 'Deepest JSON nesting accepted in a request body.',
    }),
    maxHeaderBytes: Type.Integer({
      minimum: 1024,
      default: 32 * 1024,
      description: 'Request header size limit (431 above it); room for a 16 KiB token and the rest.',
    }),
    maxBatchSize: Type.Integer({
      minimum: 1,
      default: 100,
      description: 'Most messages in one JSON-RPC batch (2025-03-26 only; later revisions have no batches).',
    }),
    requestTimeoutMs: ms('Time a client has to send its request', 30_000),
  },
  { additionalProperties: false },
);

// One object (not an intersection): PolicyRule forbids unknown fields, which would refuse `policy`.
export const ConfiguredRule = Type.Object(
  {
    ...PolicyRule.properties,
    policy: Type.String({ description: "The McpPolicy that holds this rule, as 'namespace/name'." }),
  },
  { additionalProperties: false },
);
export type ConfiguredRule = Type.Static<typeof ConfiguredRule>;

export const Authorization = Type.Object(
  { rules: Type.Array(ConfiguredRule, { default: [] }) },
  { additionalProperties: false },
);

export const SidecarConfig = Type.Object(
  {
    apiVersion: Type.Literal(CONFIG_API_VERSION),
    kind: Type.Literal('SidecarConfig'),
    server: Type.Object(
      {
        name: Type.String({ minLength: 1 }),
        namespace: Type.Optional(Type.String()),
        canonicalUri: Type.String({
          pattern: '^https?://',
          description: 'This MCP server URI (RFC 8707 resource): the audience tokens must carry.',
        }),
      },
      { additionalProperties: false },
    ),
    listen: Listen,
    admin: Admin,
    upstream: Upstream,
    limits: Type.Optional(Limits),
    allowedOrigins: Type.Optional(
      Type.Array(Type.String(), {
        description:
          "Browser origins allowed to call (DNS-rebinding protection), e.g. 'https://app.example.com'; '*' admits all. Default: loopback origins and the canonical URI's own origin.",
      }),
    ),
    authentication: Authentication,
    authorization: Authorization,
    audit: Type.Optional(AuditConfig),
    telemetry: Type.Optional(TelemetryConfig),
    pinning: Type.Optional(PinningConfig),
  },
  { additionalProperties: false },
);
export type SidecarConfig = Type.Static<typeof SidecarConfig>;
