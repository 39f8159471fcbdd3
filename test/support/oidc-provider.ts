import { randomBytes, randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  createLocalJWKSet,
  exportJWK,
  generateKeyPair,
  type JWK,
  type JWTPayload,
  jwtVerify,
  SignJWT,
} from 'jose';
import Provider, { type Configuration, errors, type KoaContextWithOIDC } from 'oidc-provider';

// A real OpenID provider for tests: `oidc-provider` on 127.0.0.1 (free port), with
//   - the client_credentials grant and confidential clients (client_secret_basic),
//   - resource indicators (RFC 8707): the token request names the MCP server's canonical URI as
//     `resource`, and the access token is a JWT (typ at+jwt) with that audience,
//   - signing keys generated here (RS256 by default), rotatable while running,
//   - `scope` and `groups` claims (groups, and any extra claims, are per client),
//   - OAuth 2.0 Token Exchange (RFC 8693), which oidc-provider lacks, registered as a grant type for
//     clients with `tokenExchange: true`: the subject token must be an access token this provider
//     issued, unexpired and not revoked (`revoke()`); the issued token is a JWT signed with the
//     provider's key whose `sub` is the subject token's, `aud` the requested audience, and `act`
//     names the exchanging client (RFC 8693 §4.1). Every exchange is kept in `exchanges`.
//
// Usage:
//   const idp = await startOidcProvider();                 // one default client, all scopes
//   const token = await idp.token({ resource: 'http://127.0.0.1:8080/mcp', scope: 'mcp:tools' });
//   ... sidecar configured with authentication.oidc: [{ issuer: idp.issuer }]
//   await idp.close();
//
// `sign()` mints tokens with the provider's own current key, for cases a real client cannot
// obtain (expired, not yet valid, odd claims). Prefer `token()` wherever a real token will do.

export interface TestClient {
  clientId: string;
  clientSecret: string;
  /** Put into the access token's `groups` claim. */
  groups?: string[];
  /** Scopes this client may request; default: all of the provider's scopes. */
  scopes?: string[];
  /** Extra top-level access-token claims (e.g. { email: 'alice@example.com', acr: 'mfa' }). */
  claims?: Record<string, unknown>;
  /** How the client authenticates at the token endpoint; default client_secret_basic. */
  tokenEndpointAuthMethod?: 'client_secret_basic' | 'client_secret_post';
  /** May use the token-exchange grant (RFC 8693). */
  tokenExchange?: boolean;
}

export interface TokenExchangeRecord {
  readonly clientId: string;
  readonly subject: string;
  readonly audience: string;
  /** 'issued', or the OAuth error the provider answered. */
  readonly result: string;
}

export interface OidcProviderOptions {
  /** Clients; default: one client `portcullis-test` with groups ['engineering']. */
  clients?: TestClient[];
  /** Scopes resource servers accept; default ['mcp:tools', 'mcp:read', 'mcp:admin']. */
  scopes?: string[];
  /** Resource indicators the provider accepts; default any http(s) URL. */
  resources?: string[];
  /** Resource assumed when a token request names none (otherwise such tokens are opaque, not JWTs). */
  defaultResource?: string;
  accessTokenTtlSeconds?: number;
  alg?: 'RS256' | 'PS256' | 'ES256';
}

export interface TokenRequest {
  /** RFC 8707 resource: the MCP server's canonical URI; becomes the token's `aud`. Default: defaultResource. */
  resource?: string;
  /** Space-separated scopes; default: none requested. */
  scope?: string;
  /** Which client asks; default: the first one. */
  clientId?: string;
}

type PrivateKey = Awaited<ReturnType<typeof generateKeyPair>>['privateKey'];

export interface SigningKey {
  kid: string;
  alg: string;
  privateKey: PrivateKey;
  publicJwk: JWK;
}

export interface TestOidcProvider {
  issuer: string;
  clients: readonly TestClient[];
  /** A real access token from the token endpoint (client_credentials). */
  token(request: TokenRequest): Promise<string>;
  /** The raw token endpoint response, for tests of errors (e.g. a scope the client may not have). */
  tokenResponse(request: TokenRequest): Promise<{ status: number; body: Record<string, unknown> }>;
  /** Current signing key (private part included), for minting or forging test tokens. */
  signingKey(): SigningKey;
  /** Mint a JWT with the current key: iss defaults to the issuer; pass exp/nbf/aud yourself. */
  sign(claims: JWTPayload, header?: Record<string, unknown>): Promise<string>;
  /** Replace the signing key (old key dropped from the JWKS unless keepPrevious). */
  rotateKeys(options?: { keepPrevious?: boolean }): Promise<SigningKey>;
  /** Revokes an access token: the token-exchange grant refuses it as a subject token from now on. */
  revoke(token: string): void;
  /** Every token-exchange request, in order. */
  readonly exchanges: readonly TokenExchangeRecord[];
  close(): Promise<void>;
}

/** Per-provider in-memory storage (the library's own one is process-global and warns). */
class MemoryAdapter {
  private readonly store = new Map<string, unknown>();
  async upsert(id: string, payload: unknown) {
    this.store.set(id, payload);
  }
  async find(id: string) {
    return this.store.get(id) as never;
  }
  async findByUserCode() {
    return undefined;
  }
  async findByUid() {
    return undefined;
  }
  async consume() {}
  async destroy(id: string) {
    this.store.delete(id);
  }
  async revokeByGrantId() {}
}

const DEFAULT_SCOPES = ['mcp:tools', 'mcp:read', 'mcp:admin'];
const TOKEN_EXCHANGE = 'urn:ietf:params:oauth:grant-type:token-exchange';
const ACCESS_TOKEN_TYPE = 'urn:ietf:params:oauth:token-type:access_token';
const EXCHANGE_PARAMS = [
  'subject_token',
  'subject_token_type',
  'audience',
  'resource',
  'scope',
  'requested_token_type',
  'actor_token',
  'actor_token_type',
];

function publicPart(jwk: JWK): JWK {
  const { d, p, q, dp, dq, qi, ...rest } = jwk;
  return rest;
}

async function newSigningKey(alg: string): Promise<{ key: SigningKey; privateJwk: JWK }> {
  const { privateKey, publicKey } = await generateKeyPair(alg, { extractable: true });
  const kid = randomUUID();
  const privateJwk = { ...(await exportJWK(privateKey)), kid, alg, use: 'sig' };
  const publicJwk = { ...(await exportJWK(publicKey)), kid, alg, use: 'sig' };
  return { key: { kid, alg, privateKey, publicJwk }, privateJwk };
}

export async function startOidcProvider(options: OidcProviderOptions = {}): Promise<TestOidcProvider> {
  const alg = options.alg ?? 'RS256';
  const scopes = options.scopes ?? DEFAULT_SCOPES;
  const ttl = options.accessTokenTtlSeconds ?? 300;
  const clients: TestClient[] = options.clients ?? [
    {
      clientId: 'portcullis-test',
      clientSecret: randomBytes(24).toString('base64url'),
      groups: ['engineering'],
    },
  ];
  const byId = new Map(clients.map((c) => [c.clientId, c]));

  let handler: (req: IncomingMessage, res: ServerResponse) => void = (_req, res) => {
    res.statusCode = 503;
    res.end();
  };
  const server = createServer((req, res) => handler(req, res));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  const configuration = (keys: JWK[]): Configuration => ({
    clients: clients.map((c) => ({
      client_id: c.clientId,
      client_secret: c.clientSecret,
      grant_types: c.tokenExchange ? ['client_credentials', TOKEN_EXCHANGE] : ['client_credentials'],
      response_types: [],
      redirect_uris: [],
      token_endpoint_auth_method: c.tokenEndpointAuthMethod ?? 'client_secret_basic',
      // The provider only holds keys for `alg`; client metadata must not ask for another one.
      id_token_signed_response_alg: alg,
      scope: (c.scopes ?? scopes).join(' '),
    })),
    jwks: { keys },
    scopes,
    ttl: { ClientCredentials: ttl },
    adapter: MemoryAdapter,
    cookies: { keys: [randomBytes(32).toString('base64url')] },
    features: {
      devInteractions: { enabled: false },
      clientCredentials: { enabled: true },
      resourceIndicators: {
        enabled: true,
        useGrantedResource: () => true,
        defaultResource: (_ctx, _client, oneOf) => oneOf ?? options.defaultResource,
        getResourceServerInfo: (_ctx, resource) => {
          const known = options.resources
            ? options.resources.includes(resource)
            : /^https?:\/\//.test(resource);
          if (!known) throw new errors.InvalidTarget();
          return {
            scope: scopes.join(' '),
            audience: resource,
            accessTokenTTL: ttl,
            accessTokenFormat: 'jwt',
            jwt: { sign: { alg: alg as 'RS256' } },
          };
        },
      },
    },
    extraTokenClaims: (_ctx, token) => {
      const client = byId.get(token.clientId ?? '');
      return client ? { ...client.claims, groups: client.groups ?? [] } : undefined;
    },
  });

  const revoked = new Set<string>();
  const exchanges: TokenExchangeRecord[] = [];
  const install = (keys: JWK[]) => {
    const provider = new Provider(issuer, configuration(keys));
    provider.registerGrantType(TOKEN_EXCHANGE, exchangeGrant, EXCHANGE_PARAMS);
    handler = provider.callback();
  };

  // RFC 8693 §2: the client is already authenticated by the provider; this checks the subject
  // token with the provider's own published keys and answers as §2.2 says.
  const exchangeGrant = async (ctx: KoaContextWithOIDC): Promise<void> => {
    const params = ctx.oidc.params as Record<string, string | undefined>;
    const clientId = ctx.oidc.client?.clientId ?? '';
    const audience = params.audience ?? '';
    const refuse = (
      error: InstanceType<typeof errors.InvalidGrant> | InstanceType<typeof errors.InvalidRequest>,
      subject = '',
    ) => {
      exchanges.push({ clientId, subject, audience, result: error.error });
      throw error;
    };
    if (params.subject_token === undefined || params.subject_token_type !== ACCESS_TOKEN_TYPE)
      refuse(new errors.InvalidRequest('subject_token of type access_token required'));
    if (audience === '') refuse(new errors.InvalidRequest('audience required'));
    const subjectToken = params.subject_token as string;
    let claims: JWTPayload;
    try {
      ({ payload: claims } = await jwtVerify(
        subjectToken,
        createLocalJWKSet({ keys: published.map(publicPart) }),
        {
          issuer,
        },
      ));
    } catch (err) {
      return refuse(new errors.InvalidGrant(`subject_token invalid: ${(err as Error).message}`));
    }
    const subject = String(claims.sub ?? '');
    if (revoked.has(subjectToken)) refuse(new errors.InvalidGrant('subject_token revoked'), subject);
    const now = Math.floor(Date.now() / 1000);
    const key = current.key;
    const accessToken = await new SignJWT({
      sub: subject,
      aud: audience,
      client_id: clientId,
      act: { sub: clientId },
      ...(claims.groups !== undefined ? { groups: claims.groups } : {}),
      jti: randomUUID(),
    })
      .setProtectedHeader({ alg: key.alg, kid: key.kid, typ: 'at+jwt' })
      .setIssuer(issuer)
      .setIssuedAt(now)
      .setExpirationTime(now + ttl)
      .sign(key.privateKey);
    exchanges.push({ clientId, subject, audience, result: 'issued' });
    ctx.body = {
      access_token: accessToken,
      issued_token_type: ACCESS_TOKEN_TYPE,
      token_type: 'Bearer',
      expires_in: ttl,
    };
  };

  let current = await newSigningKey(alg);
  let published: JWK[] = [current.privateJwk];
  install(published);

  const tokenResponse = async (request: TokenRequest) => {
    const client = request.clientId ? byId.get(request.clientId) : clients[0];
    if (!client) throw new Error(`unknown test client ${request.clientId}`);
    const body = new URLSearchParams({ grant_type: 'client_credentials' });
    if (request.resource) body.set('resource', request.resource);
    if (request.scope) body.set('scope', request.scope);
    const headers: Record<string, string> = { 'content-type': 'application/x-www-form-urlencoded' };
    if (client.tokenEndpointAuthMethod === 'client_secret_post') {
      body.set('client_id', client.clientId);
      body.set('client_secret', client.clientSecret);
    } else {
      const basic = `${encodeURIComponent(client.clientId)}:${encodeURIComponent(client.clientSecret)}`;
      headers.authorization = `Basic ${Buffer.from(basic).toString('base64')}`;
    }
    const res = await fetch(`${issuer}/token`, { method: 'POST', headers, body });
    return { status: res.status, body: (await res.json()) as Record<string, unknown> };
  };

  return {
    issuer,
    clients,
    tokenResponse,
    async token(request) {
      const { status, body } = await tokenResponse(request);
      if (status !== 200 || typeof body.access_token !== 'string') {
        throw new Error(`token endpoint answered ${status}: ${JSON.stringify(body)}`);
      }
      return body.access_token;
    },
    signingKey: () => current.key,
    sign(claims, header = {}) {
      const key = current.key;
      return new SignJWT({ iss: issuer, ...claims })
        .setProtectedHeader({ alg: key.alg, kid: key.kid, typ: 'at+jwt', ...header })
        .sign(key.privateKey);
    },
    async rotateKeys({ keepPrevious = false } = {}) {
      const next = await newSigningKey(alg);
      // The first key in the set signs; a kept previous key is only published for verification.
      published = keepPrevious ? [next.privateJwk, ...published] : [next.privateJwk];
      current = next;
      install(published);
      return next.key;
    },
    revoke: (token) => void revoked.add(token),
    exchanges,
    close() {
      return new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((err) => (err ? reject(err) : resolve()));
      });
    },
  };
}
