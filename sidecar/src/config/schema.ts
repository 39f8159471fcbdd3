import Type from 'typebox';
import { AuditConfig } from '../audit/config.ts';
import { PinningConfig } from '../pinning/config.ts';
import { TelemetryConfig } from '../telemetry/config.ts';
import { PolicyRule } from './policy-rule.ts';
import { UpstreamAuth } from './upstream-auth.ts';

// The sidecar's configuration file: the contract between operator (which renders it into a
// ConfigMap) and sidecar (which validates and enforces it). Owned here; the operator imports it.

export const CONFIG_API_VERSION = 'sidecar.portcullis.dev/v1alpha1';

const port = (description: string) => Type.Integer({ minimum: 1, maximum: 65535, description });
const ms = (description: string, defaultMs: number) =>
  Type.Integer({ minimum: 1, maximum: 3_600_000, default: defaultMs, description: `${description} (ms)` });

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

export const StdioProcesses = Type.Object(
  {
    maxProcesses: Type.Integer({
      minimum: 1,
      maximum: 1024,
      default: 16,
      description:
        'Most stdio server processes alive at once (warm ones included); a new session past it gets HTTP 503 and a JSON-RPC error.',
    }),
    warm: Type.Integer({
      minimum: 0,
      maximum: 1024,
      default: 0,
      description: 'Processes started ahead and handed to new sessions, hiding start-up time (npx, uvx).',
    }),
    idleTimeoutMs: ms(
      "A session's process with no message either way and no request in flight is stopped after",
      600_000,
    ),
    stopGraceMs: ms('Time a stopped process group has between SIGTERM and SIGKILL', 5_000),
  },
  {
    additionalProperties: false,
    description: 'Limits of the stdio transport: one process (group) per MCP session.',
  },
);

export const StdioLauncher = Type.Object(
  {
    socket: Type.String({
      pattern: '^/',
      description: "Unix socket of the Portcullis launcher that starts the server's processes.",
    }),
  },
  {
    additionalProperties: false,
    description:
      "Stdio processes started by the launcher in the MCP server's own container (Kubernetes), not by the sidecar: the command is the launcher's, fixed by the pod spec.",
  },
);

export const Upstream = Type.Object(
  {
    transport: Type.Union([Type.Literal('streamable-http'), Type.Literal('sse'), Type.Literal('stdio')]),
    url: Type.Optional(
      Type.String({ pattern: '^https?://', description: 'Upstream MCP endpoint (streamable-http, sse).' }),
    ),
    command: Type.Optional(
      Type.String({ minLength: 1, description: 'Program to spawn (stdio without a launcher).' }),
    ),
    args: Type.Optional(Type.Array(Type.String())),
    env: Type.Optional(Type.Record(Type.String(), Type.String())),
    processes: Type.Optional(StdioProcesses),
    launcher: Type.Optional(StdioLauncher),
    headers: Type.Optional(
      Type.Array(
        Type.Object(
          {
            name: Type.String({ minLength: 1 }),
            valueFrom: Type.Object(
              {
                env: Type.Optional(Type.String({ minLength: 1 })),
                file: Type.Optional(Type.String({ minLength: 1 })),
              },
              { additionalProperties: false, minProperties: 1, maxProperties: 1 },
            ),
          },
          { additionalProperties: false },
        ),
        {
          description:
            "Credentials the sidecar adds to upstream requests. The caller's token is never forwarded.",
        },
      ),
    ),
    auth: Type.Optional(UpstreamAuth),
    tls: Type.Optional(
      Type.Object(
        {
          caFile: Type.Optional(
            Type.String({
              minLength: 1,
              description: 'CA bundle the upstream certificate must chain to (PEM).',
            }),
          ),
          serverName: Type.Optional(
            Type.String({
              minLength: 1,
              description: 'Name checked in the certificate (SNI); default the URL host.',
            }),
          ),
        },
        { additionalProperties: false, description: 'TLS to an https upstream (an external server).' },
      ),
    ),
    circuitBreaker: Type.Optional(
      Type.Object(
        {
          failures: Type.Integer({
            minimum: 1,
            maximum: 1000,
            default: 5,
            description:
              'Connect failures or timeouts in a row that open the circuit (calls then fail at once).',
          }),
          cooldownMs: ms('Time an open circuit waits before one trial call', 5_000),
        },
        { additionalProperties: false },
      ),
    ),
    connectTimeoutMs: ms('Upstream connect timeout', 5_000),
    requestTimeoutMs: ms('Time allowed for an upstream response to start', 60_000),
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

const Oidc = Type.Object(
  {
    issuer: Type.String({
      pattern: '^https?://',
      description: 'Issuer; discovery at /.well-known/openid-configuration.',
    }),
    jwksUri: Type.Optional(
      Type.String({ pattern: '^https?://', description: 'Overrides the discovered JWKS URI.' }),
    ),
    audiences: Type.Optional(
      Type.Array(Type.String(), { description: "Accepted audiences; default: the server's canonical URI." }),
    ),
    algorithms: Type.Array(Type.String(), { default: ['RS256', 'ES256', 'PS256', 'EdDSA'] }),
    clockSkewSeconds: Type.Integer({ minimum: 0, maximum: 300, default: 30 }),
    usernameClaim: Type.String({ default: 'sub' }),
    groupsClaim: Type.String({ default: 'groups' }),
    caFile: Type.Optional(Type.String({ description: 'CA bundle for the issuer and JWKS endpoints.' })),
  },
  { additionalProperties: false },
);

const ServiceAccounts = Type.Object(
  {
    issuer: Type.String({
      description: "The cluster's service-account issuer (kube-apiserver --service-account-issuer).",
    }),
    jwksUri: Type.Optional(Type.String({ pattern: '^https?://' })),
    audiences: Type.Optional(Type.Array(Type.String())),
    caFile: Type.Optional(Type.String()),
    tokenFile: Type.Optional(
      Type.String({ description: 'Token the sidecar presents when fetching the JWKS from the API server.' }),
    ),
  },
  { additionalProperties: false },
);

const ApiKey = Type.Object(
  {
    id: Type.String({ minLength: 1, description: 'Key id, shown in audit events; never the key.' }),
    sha256: Type.String({ pattern: '^[0-9a-f]{64}$', description: 'Hex SHA-256 of the key.' }),
    subject: Type.String({ minLength: 1 }),
    groups: Type.Optional(Type.Array(Type.String())),
  },
  { additionalProperties: false },
);

export const Authentication = Type.Object(
  {
    allowAnonymous: Type.Boolean({
      default: false,
      description: 'Admit unauthenticated callers (off by default).',
    }),
    requiredScopes: Type.Optional(Type.Array(Type.String())),
    authorizationServers: Type.Optional(
      Type.Array(Type.String(), { description: 'Advertised in the RFC 9728 protected-resource metadata.' }),
    ),
    oidc: Type.Optional(Type.Array(Oidc)),
    serviceAccounts: Type.Optional(ServiceAccounts),
    apiKeys: Type.Optional(Type.Array(ApiKey)),
    apiKeysFile: Type.Optional(
      Type.String({ description: 'File of API keys (same shape as apiKeys), reloaded on change.' }),
    ),
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
    // Audit and telemetry sections are defined by their own modules as they grow.
    audit: Type.Optional(AuditConfig),
    telemetry: Type.Optional(TelemetryConfig),
    pinning: Type.Optional(PinningConfig),
  },
  { additionalProperties: false },
);
export type SidecarConfig = Type.Static<typeof SidecarConfig>;
