import Type from 'typebox';

// McpServer `spec.upstreamAuth`: the credential the sidecar presents to the MCP server, per caller
// or its own (docs/upstream-credentials.md). Secrets are referenced, never copied: the operator
// mounts them into the sidecar container only, and never reads them itself (no Secret RBAC).

const name = (description: string) => Type.String({ minLength: 1, maxLength: 253, description });
const url = (description: string) => Type.String({ maxLength: 1024, pattern: '^https://', description });

export const SecretKeyRef = Type.Object(
  { name: name('Secret in the same namespace.'), key: name('Key in the Secret.') },
  { description: 'One key of a Secret in the server’s namespace.' },
);
export type SecretKeyRef = Type.Static<typeof SecretKeyRef>;

const tokenEndpoint = {
  tokenEndpoint: url('OAuth 2.0 token endpoint (https).'),
  issuer: Type.Optional(url('Authorization server identifier (RFC 8414).')),
  clientId: name('OAuth client the sidecar authenticates as.'),
  clientSecretRef: Type.Optional(SecretKeyRef),
  scope: Type.Optional(
    Type.String({ minLength: 1, maxLength: 1024, description: 'Space-separated scopes to request.' }),
  ),
  resource: Type.Optional(url('RFC 8707 resource indicator.')),
};

export const UpstreamAuthSpec = Type.Object(
  {
    headers: Type.Optional(
      Type.Object(
        {
          id: Type.String({
            minLength: 1,
            maxLength: 128,
            pattern: '^[A-Za-z0-9._:/@-]+$',
            description: 'Names the credential in audit events.',
          }),
          headers: Type.Array(
            Type.Object({
              name: Type.String({
                minLength: 1,
                maxLength: 256,
                pattern: "^[!#$%&'*+.^_`|~0-9A-Za-z-]+$",
                description: 'HTTP header name.',
              }),
              secretKeyRef: SecretKeyRef,
            }),
            { minItems: 1, maxItems: 16, description: 'Headers and the Secret keys holding their values.' },
          ),
        },
        { description: "Static headers: the server's own credential, the same for every caller." },
      ),
    ),
    perPrincipal: Type.Optional(
      Type.Object(
        { secretKeyRef: SecretKeyRef },
        {
          description:
            'A Secret key mapping callers (user, group, serviceAccount) to their own credential and headers; a caller without a mapping is refused.',
        },
      ),
    ),
    tokenExchange: Type.Optional(
      Type.Object(
        { ...tokenEndpoint, audience: name('The upstream, as audience of the exchanged token.') },
        {
          description: "RFC 8693 at the caller's identity provider; the caller's token is the subject token.",
        },
      ),
    ),
    clientCredentials: Type.Optional(
      Type.Object(
        { ...tokenEndpoint, audience: Type.Optional(name('Audience of the token.')) },
        { description: "The server's own OAuth client (RFC 6749 §4.4)." },
      ),
    ),
  },
  {
    description:
      'How the sidecar authenticates to the MCP server. Exactly one mode. The caller’s token is never passed through.',
    'x-kubernetes-validations': [
      {
        rule: '(has(self.headers) ? 1 : 0) + (has(self.perPrincipal) ? 1 : 0) + (has(self.tokenExchange) ? 1 : 0) + (has(self.clientCredentials) ? 1 : 0) == 1',
        message: 'set exactly one of headers, perPrincipal, tokenExchange, clientCredentials',
      },
    ],
  },
);
export type UpstreamAuthSpec = Type.Static<typeof UpstreamAuthSpec>;
