import { randomBytes } from 'node:crypto';
import {
  ClientCredentialsProvider as ClientCredentialsV2,
  Client as ClientV2,
  SSEClientTransport as SseV2,
  StreamableHTTPClientTransport as StreamableV2,
} from '@modelcontextprotocol/client';
import { ClientCredentialsProvider as ClientCredentialsV1 } from '@modelcontextprotocol/sdk/client/auth-extensions.js';
import { Client as ClientV1 } from '@modelcontextprotocol/sdk/client/index.js';
import { SSEClientTransport as SseV1 } from '@modelcontextprotocol/sdk/client/sse.js';
import { StreamableHTTPClientTransport as StreamableV1 } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type EverythingServer,
  freePort,
  startEverything,
} from '../../../../sidecar/src/quickstart/everything.ts';
import type { RunningSidecar } from '../../../../sidecar/src/server/sidecar.ts';
import { allow, config, deny, sidecarFor } from '../../../support/harness.ts';
import { startOidcProvider, type TestOidcProvider } from '../../../support/oidc-provider.ts';

// Real access tokens from a real OpenID provider (client credentials, RFC 8707 resource = the
// sidecar's canonical URI), with SDK v1 and v2 clients, over Streamable HTTP and legacy SSE; and
// clients that know only the server URL and find the authorization server through the 401
// challenge and the RFC 9728 metadata.

const engineer = {
  clientId: 'eng-bot',
  clientSecret: randomBytes(16).toString('hex'),
  groups: ['engineering'],
};
const sales = { clientId: 'sales-bot', clientSecret: randomBytes(16).toString('hex'), groups: ['sales'] };

let idp: TestOidcProvider;
/** Stands in for the cluster's service-account issuer (same token shape as kube-apiserver's). */
let cluster: TestOidcProvider;
let streamable: EverythingServer;
let sse: EverythingServer;
let httpSidecar: RunningSidecar;
let sseSidecar: RunningSidecar;

async function oidcSidecar(
  upstream: EverythingServer,
  transport: 'streamable-http' | 'sse',
): Promise<RunningSidecar> {
  const port = await freePort();
  const canonicalUri = `http://127.0.0.1:${port}/${transport === 'sse' ? 'sse' : 'mcp'}`;
  return sidecarFor(
    config({
      canonicalUri,
      upstream: { transport, url: upstream.url },
      authentication: {
        apiKeys: [],
        oidc: [{ issuer: idp.issuer }] as never,
        serviceAccounts: { issuer: cluster.issuer },
      },
      rules: [
        allow('engineering-tools', {
          subjects: [{ group: 'engineering' }],
          tools: ['echo', 'get-sum', 'get-env'],
        }),
        allow('release-bot', { subjects: [{ serviceAccount: 'ci/release-bot' }], tools: ['get-sum'] }),
        deny('no-env', { tools: ['get-env'] }),
      ],
    }),
    undefined,
    { portOverride: port },
  );
}

beforeAll(async () => {
  [idp, cluster] = await Promise.all([
    startOidcProvider({ clients: [engineer, sales] }),
    startOidcProvider(),
  ]);
  [streamable, sse] = await Promise.all([startEverything('streamableHttp'), startEverything('sse')]);
  httpSidecar = await oidcSidecar(streamable, 'streamable-http');
  sseSidecar = await oidcSidecar(sse, 'sse');
});

afterAll(async () => {
  await httpSidecar?.close();
  await sseSidecar?.close();
  await streamable?.close();
  await sse?.close();
  await idp?.close();
  await cluster?.close();
});

type AnyClient = {
  connect(t: unknown): Promise<void>;
  listTools(): Promise<{ tools: { name: string }[] }>;
  callTool(p: { name: string; arguments: Record<string, unknown> }): Promise<unknown>;
  close(): Promise<void>;
};

async function exercise(client: AnyClient, transport: unknown, expected: string[]) {
  await client.connect(transport);
  const { tools } = await client.listTools();
  expect(tools.map((t) => t.name).sort()).toEqual(expected);
  if (expected.includes('echo')) {
    const r = (await client.callTool({ name: 'echo', arguments: { message: 'token' } })) as {
      content: { text: string }[];
    };
    expect(r.content[0]?.text).toBe('Echo: token');
  }
  await client.close();
}

const bearer = (token: string) => ({ authorization: `Bearer ${token}` });
const sseInit = (headers: Record<string, string>) => ({
  requestInit: { headers },
  eventSourceInit: {
    fetch: (u: string | URL, init?: RequestInit) =>
      fetch(u, { ...init, headers: { ...(init?.headers as object), ...headers } }),
  },
});

describe('client-credentials tokens from a real OpenID provider', () => {
  it('SDK v1, Streamable HTTP', async () => {
    const token = await idp.token({ resource: new URL(httpSidecar.url).href, clientId: engineer.clientId });
    await exercise(
      new ClientV1({ name: 'v1', version: '1' }) as unknown as AnyClient,
      new StreamableV1(new URL(httpSidecar.url), { requestInit: { headers: bearer(token) } }),
      ['echo', 'get-sum'],
    );
  });

  it('SDK v2, Streamable HTTP', async () => {
    const token = await idp.token({ resource: httpSidecar.url, clientId: engineer.clientId });
    await exercise(
      new ClientV2({ name: 'v2', version: '1' }) as unknown as AnyClient,
      new StreamableV2(new URL(httpSidecar.url), { requestInit: { headers: bearer(token) } }),
      ['echo', 'get-sum'],
    );
  });

  it('SDK v1, legacy SSE', async () => {
    const token = await idp.token({ resource: sseSidecar.url, clientId: engineer.clientId });
    await exercise(
      new ClientV1({ name: 'v1', version: '1' }) as unknown as AnyClient,
      new SseV1(new URL(sseSidecar.url), sseInit(bearer(token))),
      ['echo', 'get-sum'],
    );
  });

  it('SDK v2, legacy SSE', async () => {
    const token = await idp.token({ resource: sseSidecar.url, clientId: engineer.clientId });
    await exercise(
      new ClientV2({ name: 'v2', version: '1' }) as unknown as AnyClient,
      new SseV2(new URL(sseSidecar.url), sseInit(bearer(token)) as ConstructorParameters<typeof SseV2>[1]),
      ['echo', 'get-sum'],
    );
  });

  it('a token for another resource (audience) is refused with 401', async () => {
    const token = await idp.token({ resource: 'http://127.0.0.1:1/elsewhere', clientId: engineer.clientId });
    const res = await fetch(httpSidecar.url, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        accept: 'application/json, text/event-stream',
        ...bearer(token),
      },
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'ping' }),
    });
    expect(res.status).toBe(401);
    expect(res.headers.get('www-authenticate')).toMatch(/error="invalid_token"/);
  });

  it('group membership from the token decides: sales sees no tools', async () => {
    const token = await idp.token({ resource: httpSidecar.url, clientId: sales.clientId });
    await exercise(
      new ClientV1({ name: 'v1', version: '1' }) as unknown as AnyClient,
      new StreamableV1(new URL(httpSidecar.url), { requestInit: { headers: bearer(token) } }),
      [],
    );
  });
});

describe('Kubernetes service-account tokens', () => {
  const saToken = (namespace: string, name: string) => {
    const now = Math.floor(Date.now() / 1000);
    return cluster.sign({
      sub: `system:serviceaccount:${namespace}:${name}`,
      aud: [httpSidecar.url],
      iat: now,
      nbf: now,
      exp: now + 600,
      'kubernetes.io': { namespace, serviceaccount: { name, uid: 'u-1' } },
    });
  };

  it('a serviceAccount subject matches its token, and only its token', async () => {
    const bot = await saToken('ci', 'release-bot');
    await exercise(
      new ClientV1({ name: 'sa', version: '1' }) as unknown as AnyClient,
      new StreamableV1(new URL(httpSidecar.url), { requestInit: { headers: bearer(bot) } }),
      ['get-sum'],
    );
    const stranger = await saToken('ci', 'someone-else');
    await exercise(
      new ClientV1({ name: 'sa', version: '1' }) as unknown as AnyClient,
      new StreamableV1(new URL(httpSidecar.url), { requestInit: { headers: bearer(stranger) } }),
      [],
    );
  });
});

describe('a client that knows only the server URL', () => {
  it('SDK v1 discovers the authorization server via 401 + protected-resource metadata', async () => {
    const authProvider = new ClientCredentialsV1({
      clientId: engineer.clientId,
      clientSecret: engineer.clientSecret,
      expectedIssuer: idp.issuer,
    });
    await exercise(
      new ClientV1({ name: 'v1', version: '1' }) as unknown as AnyClient,
      new StreamableV1(new URL(httpSidecar.url), { authProvider }),
      ['echo', 'get-sum'],
    );
  });

  it('SDK v2 discovers the authorization server via 401 + protected-resource metadata', async () => {
    const authProvider = new ClientCredentialsV2({
      clientId: engineer.clientId,
      clientSecret: engineer.clientSecret,
      expectedIssuer: idp.issuer,
    });
    await exercise(
      new ClientV2({ name: 'v2', version: '1' }) as unknown as AnyClient,
      new StreamableV2(new URL(httpSidecar.url), { authProvider }),
      ['echo', 'get-sum'],
    );
  });
});
