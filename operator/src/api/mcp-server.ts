import Type from 'typebox';
import { type CaptureLevel, Pin, PinningMode } from '../../../sidecar/src/contract/index.ts';
import { API_VERSION } from './group.ts';
import { HostedSource } from './hosted-source.ts';
import { Conditions, ObjectMeta, text } from './kube-types.ts';
import { UpstreamAuthSpec } from './upstream-auth.ts';

// McpServer: one governed MCP endpoint. The schema below is the TypeScript type, the CRD's OpenAPI
// schema (crds/portcullis.dev_mcpservers.yaml is generated from it) and its CEL validation at once.

export const MCP_SERVER_KIND = 'McpServer';

/** Audit payload capture (the sidecar's levels), least to most. A server may raise the cluster's level, never lower it. */
export const CAPTURE_LEVELS: readonly CaptureLevel[] = ['none', 'metadata', 'redacted', 'full'];

// Declared so the exactly-one-source rule already covers them; their fields arrive in a later version.
const reservedSource = (what: string) =>
  Type.Object({}, { description: `${what} Not supported by this version yet; setting it is refused.` });

export const ExternalIssuer = Type.Object(
  {
    issuer: Type.String({
      minLength: 1,
      maxLength: 1024,
      pattern: '^https?://',
      description: 'OpenID issuer URL; discovery at /.well-known/openid-configuration.',
    }),
    jwksUri: Type.Optional(
      Type.String({
        maxLength: 1024,
        pattern: '^https?://',
        description: 'Overrides the discovered JWKS URI.',
      }),
    ),
    audiences: Type.Optional(
      Type.Array(text('An accepted audience.'), {
        maxItems: 16,
        description:
          "Accepted audiences for this issuer (default: the server's URL and spec.authentication.audiences).",
      }),
    ),
  },
  { description: 'An additional OpenID Connect issuer whose tokens this server accepts.' },
);

export const ServerAuthentication = Type.Object(
  {
    audiences: Type.Optional(
      Type.Array(text('An accepted audience.'), {
        maxItems: 16,
        description: "Audiences accepted in addition to the server's own URL (RFC 8707 resource).",
      }),
    ),
    issuers: Type.Optional(
      Type.Array(ExternalIssuer, {
        maxItems: 8,
        description: "Issuers accepted in addition to the cluster's identity providers.",
      }),
    ),
    requiredScopes: Type.Optional(
      Type.Array(text('An OAuth scope.'), { maxItems: 32, description: 'Scopes every token must carry.' }),
    ),
    apiKeys: Type.Optional(
      Type.Object(
        {
          secretRef: Type.Object(
            {
              name: Type.String({ minLength: 1, maxLength: 253, description: 'Secret name.' }),
              key: Type.String({
                minLength: 1,
                maxLength: 253,
                default: 'api-keys.json',
                description:
                  'Key holding a JSON array of {id, sha256, subject, groups} (keys stored hashed).',
              }),
            },
            { description: 'Secret in the same namespace with the hashed API keys.' },
          ),
        },
        { description: 'API keys accepted by this server, reloaded when the Secret changes.' },
      ),
    ),
    allowAnonymous: Type.Boolean({
      default: false,
      description:
        "Admit callers without credentials, as the principal 'anonymous' in the group 'system:unauthenticated'. Off by default. They get only what a policy rule allows that group (a subject group: system:unauthenticated); anyAuthenticated does not cover them.",
    }),
  },
  { description: "Changes to how the sidecar authenticates callers; identity providers are the cluster's." },
);
export type ServerAuthentication = Type.Static<typeof ServerAuthentication>;

export const McpServerSpec = Type.Object(
  {
    hosted: Type.Optional(HostedSource),
    external: Type.Optional(reservedSource('A remote MCP endpoint governed through a gateway.')),
    compose: Type.Optional(reservedSource('An endpoint composed of tools of other McpServers.')),
    authentication: Type.Optional(ServerAuthentication),
    upstreamAuth: Type.Optional(UpstreamAuthSpec),
    tools: Type.Optional(
      Type.Object(
        {
          allow: Type.Optional(
            Type.Array(Type.String({ minLength: 1, maxLength: 512 }), {
              maxItems: 256,
              description:
                "Tool names the server may expose (globs: '*' any run of characters, '?' one). Other tools are hidden and refused whatever the policies say. Omitted: no restriction beyond policies.",
            }),
          ),
          pinning: Type.Optional(
            Type.Object(
              { mode: Type.Optional({ ...PinningMode, default: 'TrustOnFirstUse' }) },
              { description: 'Tool-definition pinning (docs/pinning.md). Default mode TrustOnFirstUse.' },
            ),
          ),
          pins: Type.Optional(
            Type.Array(Pin, {
              maxItems: 1024,
              description:
                'Approved definitions (`kubectl portcullis tools approve` writes them): tools, prompts, resource templates and instructions by digest.',
            }),
          ),
        },
        {
          description: 'Which tools of the server are reachable at all, and which definitions are approved.',
        },
      ),
    ),
    audit: Type.Optional(
      Type.Object(
        {
          payloads: Type.Optional(
            Type.Enum(['metadata', 'redacted', 'full'], {
              description:
                "How much of each message's arguments audit events capture: metadata (names and size), redacted (values with secrets replaced) or full. It can raise the cluster's level, never lower it.",
            }),
          ),
        },
        {
          description:
            'Audit settings of this server. Audit itself is always on; its sinks are the cluster’s.',
        },
      ),
    ),
  },
  {
    description: 'Desired state of the MCP server. Exactly one source: hosted, external or compose.',
    'x-kubernetes-validations': [
      {
        rule: '(has(self.hosted) ? 1 : 0) + (has(self.external) ? 1 : 0) + (has(self.compose) ? 1 : 0) == 1',
        message: 'set exactly one of spec.hosted, spec.external, spec.compose',
      },
      {
        rule: '!has(self.external) && !has(self.compose)',
        message: 'spec.external and spec.compose are not supported by this version; use spec.hosted',
      },
      {
        rule: "!has(self.upstreamAuth) || !has(self.hosted) || self.hosted.transport != 'stdio'",
        message: 'spec.upstreamAuth needs an HTTP server: a stdio server takes no credential headers',
      },
    ],
  },
);
export type McpServerSpec = Type.Static<typeof McpServerSpec>;

export const SERVER_PHASES = ['Pending', 'Progressing', 'Ready', 'Degraded', 'Failed'] as const;
export type ServerPhase = (typeof SERVER_PHASES)[number];

export const McpServerStatus = Type.Object(
  {
    phase: Type.Optional(
      Type.Enum(SERVER_PHASES, {
        description:
          'Summary: Pending, Progressing, Ready, Degraded (serving with less than it should) or Failed (the spec cannot be applied, or no pod serves for a known cause). Conditions have the detail.',
      }),
    ),
    source: Type.Optional(
      Type.Union([Type.Literal('hosted'), Type.Literal('external'), Type.Literal('compose')], {
        description: 'Which source the server uses (the TYPE column).',
      }),
    ),
    url: Type.Optional(text('In-cluster URL of the MCP endpoint (through the sidecar).')),
    observedGeneration: Type.Optional(
      Type.Integer({ minimum: 0, description: 'metadata.generation the status describes.' }),
    ),
    conditions: Type.Optional(Conditions),
    policies: Type.Optional(
      Type.Array(Type.String({ maxLength: 253 }), {
        maxItems: 256,
        description: 'McpPolicies in force on this server, by name.',
      }),
    ),
    policyNames: Type.Optional(
      Type.String({
        description:
          'The same names joined by ", " for the POLICIES column (kubectl prints an array as JSON).',
      }),
    ),
    replicas: Type.Optional(Type.Integer({ minimum: 0, description: 'Pods of the server.' })),
    readyReplicas: Type.Optional(Type.Integer({ minimum: 0, description: 'Pods that are ready.' })),
  },
  { description: 'Observed state of the MCP server, written by the operator.' },
);
export type McpServerStatus = Type.Static<typeof McpServerStatus>;

export const McpServer = Type.Object(
  {
    apiVersion: Type.Literal(API_VERSION),
    kind: Type.Literal(MCP_SERVER_KIND),
    metadata: ObjectMeta,
    spec: McpServerSpec,
    status: Type.Optional(McpServerStatus),
  },
  {
    description:
      'An MCP server governed by Portcullis: every call reaches it through the sidecar, which authenticates, authorizes (McpPolicy) and audits it.',
    'x-kubernetes-validations': [
      {
        rule: "self.metadata.name.matches('^[a-z]([-a-z0-9]*[a-z0-9])?$') && size(self.metadata.name) <= 63",
        // Without these the API server reports the path of a root rule as <nil>.
        fieldPath: '.metadata.name',
        reason: 'FieldValueInvalid',
        message:
          'the name must be a DNS label (lower case letters, digits, -; at most 63) since the Service takes it',
      },
    ],
  },
);
export type McpServer = Type.Static<typeof McpServer>;
