import Type from 'typebox';

// The configuration file's `authentication` section: who may call (OIDC issuers, the cluster's
// ServiceAccount issuer, API keys) and whether anonymous callers are admitted (off by default).

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
