import Type from 'typebox';

// How the sidecar authenticates to its upstream: the `upstream.auth` section of the sidecar
// configuration (rendered by the operator from McpServer `spec.upstreamAuth`). Secrets are read
// from mounted files, never written into the configuration itself. The caller's own token never
// reaches the upstream; token exchange sends it only to the caller's identity provider.

const ms = (description: string, defaultMs: number) =>
  Type.Integer({ minimum: 1, maximum: 600_000, default: defaultMs, description: `${description} (ms)` });

const credentialId = Type.String({
  minLength: 1,
  maxLength: 128,
  pattern: '^[A-Za-z0-9._:/@-]+$',
  description: 'Names the credential in audit events; never its value.',
});

export const OutboundResilience = Type.Object(
  {
    timeoutMs: ms('Time allowed for one call to the token endpoint', 5_000),
    retries: Type.Integer({
      minimum: 0,
      maximum: 5,
      default: 2,
      description: 'Retries of a token request that failed to connect or got a 5xx (backoff doubles).',
    }),
    backoffMs: ms('First retry delay', 100),
    breakerFailures: Type.Integer({
      minimum: 1,
      maximum: 100,
      default: 5,
      description: 'Consecutive failures that open the circuit: later calls fail at once.',
    }),
    breakerCooldownMs: ms('Time an open circuit waits before letting one trial call through', 10_000),
  },
  { additionalProperties: false },
);

const TokenEndpoint = {
  tokenEndpoint: Type.String({ pattern: '^https?://', description: 'OAuth 2.0 token endpoint.' }),
  issuer: Type.Optional(
    Type.String({ pattern: '^https?://', description: 'Authorization server identifier (RFC 8414).' }),
  ),
  clientId: Type.String({ minLength: 1 }),
  clientSecretFile: Type.Optional(
    Type.String({
      minLength: 1,
      description: 'File holding the client secret (a mounted Secret), sent with HTTP Basic.',
    }),
  ),
  caFile: Type.Optional(Type.String({ description: 'CA bundle for the token endpoint.' })),
  scope: Type.Optional(Type.String({ minLength: 1 })),
  header: Type.String({
    minLength: 1,
    default: 'authorization',
    description: "Header the obtained token is sent in; 'authorization' sends 'Bearer <token>'.",
  }),
  refreshBeforeExpirySeconds: Type.Integer({
    minimum: 0,
    maximum: 3600,
    default: 30,
    description: 'A cached token is replaced this long before it expires.',
  }),
  resilience: Type.Optional(OutboundResilience),
};

export const HeadersAuth = Type.Object(
  {
    mode: Type.Literal('headers'),
    id: credentialId,
    headers: Type.Array(
      Type.Object(
        { name: Type.String({ minLength: 1 }), file: Type.String({ minLength: 1 }) },
        { additionalProperties: false },
      ),
      { minItems: 1, description: 'Each header value is the content of a file (a mounted Secret key).' },
    ),
  },
  { additionalProperties: false, description: "Static headers: the server's own credential." },
);

export const PerPrincipalAuth = Type.Object(
  {
    mode: Type.Literal('perPrincipal'),
    file: Type.String({
      minLength: 1,
      description:
        'A mounted Secret mapping callers (user, group, serviceAccount) to their own credential; reloaded on change. A caller without a mapping is refused; there is no shared fallback.',
    }),
  },
  { additionalProperties: false },
);

export const TokenExchangeAuth = Type.Object(
  {
    mode: Type.Literal('tokenExchange'),
    ...TokenEndpoint,
    audience: Type.String({
      minLength: 1,
      description: 'The upstream, as the audience of the exchanged token.',
    }),
    resource: Type.Optional(
      Type.String({ pattern: '^https?://', description: 'RFC 8707 resource indicator.' }),
    ),
    requestedTokenType: Type.String({ default: 'urn:ietf:params:oauth:token-type:access_token' }),
    maxCachedPrincipals: Type.Integer({ minimum: 1, maximum: 1_000_000, default: 10_000 }),
  },
  {
    additionalProperties: false,
    description: "RFC 8693 at the caller's identity provider: the caller's token is the subject token.",
  },
);

export const ClientCredentialsAuth = Type.Object(
  {
    mode: Type.Literal('clientCredentials'),
    ...TokenEndpoint,
    audience: Type.Optional(Type.String({ minLength: 1 })),
    resource: Type.Optional(Type.String({ pattern: '^https?://' })),
  },
  { additionalProperties: false, description: "The server's own OAuth client (RFC 6749 §4.4)." },
);

export const UpstreamAuth = Type.Union(
  [HeadersAuth, PerPrincipalAuth, TokenExchangeAuth, ClientCredentialsAuth],
  {
    description: 'Credential the sidecar presents upstream, per caller or its own.',
  },
);
export type UpstreamAuth = Type.Static<typeof UpstreamAuth>;
export type OutboundResilience = Type.Static<typeof OutboundResilience>;
