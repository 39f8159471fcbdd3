import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type EverythingServer, startEverything } from '../../../sidecar/src/quickstart/everything.ts';
import type { RunningSidecar } from '../../../sidecar/src/server/sidecar.ts';
import {
  type ExpressUpstream,
  PUBLIC_URI,
  SECRET_URI,
  startExpressUpstream,
} from '../../support/express-upstream.ts';
import {
  allow,
  collectRecords,
  config,
  deny,
  initializeBody,
  KEYS,
  MCP_HEADERS,
  messageOf,
  post,
  type Recorded,
  sidecarFor,
} from '../../support/harness.ts';

// What reaches the upstream is exactly the message that was authorized and audited, rebuilt from
// the values the sidecar decided on, in a form every parser reads alike. Each case is an input that
// another parser read differently before (charset, member-name case, duplicates, surrogates, URI
// aliases), sent to real upstreams: the MCP SDK's own express app (body-parser with iconv) on both
// transports, and the everything server of the quick start.

const rules = [
  allow('everything', { tools: ['*'], resources: ['*'] }),
  deny('no-env', { tools: ['get-env'] }),
  deny('no-secret', { resources: [SECRET_URI, 'demo://resource/static/document/architecture.md'] }),
];
const auth = { 'x-api-key': KEYS.alice };
const call = (name: string, id = 1) =>
  JSON.stringify({ jsonrpc: '2.0', id, method: 'tools/call', params: { name, arguments: {} } });
const read = (uri: string, id = 1, method = 'resources/read') =>
  JSON.stringify({ jsonrpc: '2.0', id, method, params: { uri } });

/** `get-env` as UTF-7 (RFC 2152): "+AGc-" is the base64 of U+0067, "g". */
const UTF7_GET_ENV = '+AGc-et-env';

let upstream: ExpressUpstream;
let recorder: Recorded;

beforeAll(async () => {
  upstream = await startExpressUpstream();
  recorder = collectRecords();
});
afterAll(async () => {
  await upstream?.close();
});

describe('Streamable HTTP to the SDK express app', () => {
  let sidecar: RunningSidecar;
  beforeAll(async () => {
    sidecar = await sidecarFor(
      config({ upstream: { transport: 'streamable-http', url: upstream.url }, rules }),
      recorder,
    );
  });
  afterAll(async () => {
    await sidecar?.close();
  });

  it('refuses a UTF-7 body with 415 and records it: the upstream would have run get-env', async () => {
    const before = upstream.bodies.length;
    const res = await post(sidecar.url, call(UTF7_GET_ENV, 41), {
      ...auth,
      'content-type': 'application/json; charset=utf-7',
    });
    expect(upstream.ran).not.toContain('tool:get-env');
    expect(res.status).toBe(415);
    expect(upstream.bodies.length).toBe(before);
    expect(recorder.records.at(-1)).toMatchObject({ outcome: 'failed', errorCode: 'UNSUPPORTED_MEDIA_TYPE' });
  });

  it('forwards the decided message rebuilt, as application/json with its own length', async () => {
    // Legal JSON that parsers may read differently byte for byte: spacing, escapes, charset case.
    const sent =
      '{ "jsonrpc" : "2.0", "id" : 7, "method" : "tools/call",\n "params" : { "name" : "\\u0065cho", "arguments" : { "x" : 1.50 } } }';
    const res = await post(sidecar.url, sent, { ...auth, 'content-type': 'application/json; charset=UTF-8' });
    expect(res.status).toBe(200);
    expect(upstream.ran.at(-1)).toBe('tool:echo');
    const forwarded = upstream.bodies.at(-1) as string;
    expect(forwarded).toBe(JSON.stringify(JSON.parse(sent)));
    expect(upstream.headers.at(-1)?.['content-type']).toBe('application/json');
    expect(upstream.headers.at(-1)?.['content-length']).toBe(String(Buffer.byteLength(forwarded)));
  });

  it('forwards a batch rebuilt the same way', async () => {
    const sent = `[ ${call('echo', 1)} ,\n ${call('echo', 2)} ]`;
    const res = await post(sidecar.url, sent, { ...auth, 'mcp-protocol-version': '2025-03-26' });
    expect(res.status).toBe(200);
    expect(upstream.bodies.at(-1)).toBe(JSON.stringify(JSON.parse(sent)));
  });

  it.each([
    [
      'a top-level member that differs only in case',
      '{"jsonrpc":"2.0","id":3,"method":"ping","Method":"tools/call","params":{"name":"get-env"}}',
    ],
    [
      'a params member that differs only in case',
      '{"jsonrpc":"2.0","id":3,"method":"tools/call","params":{"name":"echo","Name":"get-env"}}',
    ],
    [
      'a long s that Go folds to s',
      '{"jsonrpc":"2.0","id":3,"method":"tools/call","params":{"name":"echo"},"param\u017f":{"name":"get-env"}}',
    ],
    [
      'a duplicate name (some parsers keep the first)',
      '{"jsonrpc":"2.0","id":3,"method":"tools/call","params":{"name":"get-env","name":"echo"}}',
    ],
    [
      'an argument that differs only in case',
      '{"jsonrpc":"2.0","id":3,"method":"tools/call","params":{"name":"echo","arguments":{"path":"/tmp","PATH":"/etc"}}}',
    ],
    [
      'a lone surrogate (Go reads U+FFFD)',
      '{"jsonrpc":"2.0","id":3,"method":"tools/call","params":{"name":"echo\\ud800"}}',
    ],
    [
      'an id JavaScript would round',
      '{"jsonrpc":"2.0","id":9007199254740993,"method":"tools/call","params":{"name":"echo"}}',
    ],
  ])('refuses %s with 400 and forwards nothing', async (_name, body) => {
    const before = upstream.bodies.length;
    const res = await post(sidecar.url, body, auth);
    expect(res.status).toBe(400);
    expect((messageOf(res.text) as { error: { code: number } }).error.code).toBe(-32600);
    expect(upstream.bodies.length).toBe(before);
    expect(recorder.records.at(-1)).toMatchObject({ outcome: 'failed', errorCode: 'INVALID_REQUEST' });
  });

  it.each([
    ['an uppercase scheme', 'DEMO://upstream/secret'],
    ['a dot segment', 'demo://upstream/./secret'],
    ['a double-dot segment', 'demo://upstream/x/../secret'],
    ['percent-encoded dots', 'demo://upstream/x/%2E%2e/secret'],
    ['a percent-encoded letter', 'demo://upstream/%73ecret'],
  ])('denies reading the secret resource through %s', async (_name, uri) => {
    const res = await post(sidecar.url, read(uri, 5), auth);
    expect((messageOf(res.text) as { error?: { code: number } }).error?.code).toBe(-32003);
    expect(recorder.records.at(-1)?.target).toEqual({ resource: SECRET_URI });
    expect(upstream.ran).not.toContain(`read:${SECRET_URI}`);
  });

  it('forwards an allowed alias in the normalized form it was decided on', async () => {
    const res = await post(sidecar.url, read('DEMO://upstream/x/../public', 6), auth);
    expect(res.status).toBe(200);
    expect(JSON.parse(upstream.bodies.at(-1) as string).params.uri).toBe(PUBLIC_URI);
    expect(upstream.ran.at(-1)).toBe(`read:${PUBLIC_URI}`);
  });

  it("sends Mcp-Param-* headers derived from the decided arguments, never the caller's", async () => {
    const route = (id: number) =>
      JSON.stringify({
        jsonrpc: '2.0',
        id,
        method: 'tools/call',
        params: { name: 'route', arguments: { region: 'eu' } },
      });
    const spoofed = { ...auth, 'mcp-param-region': 'us', 'mcp-param-other': 'x' };
    // Not listed yet: the declarations are unknown, so the caller's copies are dropped, not passed on.
    expect((await post(sidecar.url, route(21), spoofed)).status).toBe(200);
    expect(upstream.headers.at(-1)?.['mcp-param-region']).toBeUndefined();
    expect(upstream.headers.at(-1)?.['mcp-param-other']).toBeUndefined();
    await post(sidecar.url, '{"jsonrpc":"2.0","id":22,"method":"tools/list"}', auth);
    expect((await post(sidecar.url, route(23), spoofed)).status).toBe(200);
    expect(upstream.headers.at(-1)?.['mcp-param-region']).toBe('eu');
    expect(upstream.headers.at(-1)?.['mcp-param-other']).toBeUndefined();
  });

  it('refuses a resource URI that is not absolute with -32602', async () => {
    const res = await post(sidecar.url, read('../secret', 8), auth);
    expect(res.status).toBe(400);
    expect(messageOf(res.text)).toMatchObject({ id: 8, error: { code: -32602 } });
  });
});

/** A raw legacy HTTP+SSE client: the endpoint event, then each reply by id from the stream. */
async function legacySession(sseUrl: string) {
  const res = await fetch(sseUrl, { headers: { accept: 'text/event-stream', ...auth } });
  const reader = (res.body as ReadableStream<Uint8Array>).getReader();
  const decoder = new TextDecoder();
  let buffer = '';
  const nextEvent = async (): Promise<{ event: string; data: string }> => {
    for (;;) {
      const end = buffer.indexOf('\n\n');
      if (end !== -1) {
        const block = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        const field = (name: string) =>
          block
            .split('\n')
            .filter((l) => l.startsWith(`${name}:`))
            .map((l) => l.slice(name.length + 1).trim())
            .join('\n');
        return { event: field('event') || 'message', data: field('data') };
      }
      const { value, done } = await reader.read();
      if (done) throw new Error('stream ended');
      buffer += decoder.decode(value, { stream: true });
    }
  };
  const endpoint = new URL((await nextEvent()).data, sseUrl);
  return {
    endpoint,
    async reply(id: number): Promise<unknown> {
      for (;;) {
        const ev = await nextEvent();
        const msg = ev.data === '' ? undefined : (JSON.parse(ev.data) as { id?: unknown });
        if (msg?.id === id) return msg;
      }
    },
    close: () => reader.cancel(),
  };
}

describe('legacy HTTP+SSE to the SDK express app', () => {
  let sidecar: RunningSidecar;
  beforeAll(async () => {
    sidecar = await sidecarFor(
      config({ upstream: { transport: 'sse', url: upstream.sseUrl }, rules }),
      recorder,
    );
  });
  afterAll(async () => {
    await sidecar?.close();
  });

  it('refuses a UTF-7 message with 415: the upstream would have run get-env', async () => {
    const session = await legacySession(sidecar.url);
    const res = await fetch(session.endpoint, {
      method: 'POST',
      headers: { ...auth, 'content-type': 'application/json; charset=utf-7' },
      body: call(UTF7_GET_ENV, 42),
    });
    // The stream still answers what follows, and nothing ran get-env in between.
    await fetch(session.endpoint, {
      method: 'POST',
      headers: { ...MCP_HEADERS, ...auth },
      body: call('echo', 43),
    });
    expect(await session.reply(43)).toMatchObject({ result: { content: [{ text: 'ran echo' }] } });
    expect(upstream.ran).not.toContain('tool:get-env');
    expect(res.status).toBe(415);
    await session.close();
  });

  it('forwards the decided message rebuilt, as application/json with its own length', async () => {
    const session = await legacySession(sidecar.url);
    const sent = '{"jsonrpc":"2.0", "id":44, "method":"tools/call", "params":{"name":"\\u0065cho"}}';
    const res = await fetch(session.endpoint, {
      method: 'POST',
      headers: { ...auth, 'content-type': 'application/json;charset=utf-8' },
      body: sent,
    });
    expect(res.status).toBe(202);
    expect(await session.reply(44)).toMatchObject({ result: { content: [{ text: 'ran echo' }] } });
    const forwarded = upstream.bodies.at(-1) as string;
    expect(forwarded).toBe(JSON.stringify(JSON.parse(sent)));
    expect(upstream.headers.at(-1)?.['content-type']).toBe('application/json');
    expect(upstream.headers.at(-1)?.['content-length']).toBe(String(Buffer.byteLength(forwarded)));
    await session.close();
  });
});

describe('resource aliases against the everything server (the quick start upstream)', () => {
  let everything: EverythingServer;
  let sidecar: RunningSidecar;
  let session: Record<string, string>;
  beforeAll(async () => {
    everything = await startEverything('streamableHttp');
    sidecar = await sidecarFor(
      config({ upstream: { transport: 'streamable-http', url: everything.url }, rules }),
    );
    const init = await post(sidecar.url, initializeBody(), auth);
    session = {
      ...auth,
      'mcp-session-id': init.headers.get('mcp-session-id') as string,
      'mcp-protocol-version': '2025-06-18',
    };
    await post(sidecar.url, '{"jsonrpc":"2.0","method":"notifications/initialized"}', session);
  });
  afterAll(async () => {
    await sidecar?.close();
    await everything?.close();
  });

  const DOC = 'demo://resource/static/document';
  it.each([
    ['resources/read', `DEMO://resource/static/document/architecture.md`],
    ['resources/read', `${DOC}/./architecture.md`],
    ['resources/read', `demo://resource/static/x/../document/architecture.md`],
    ['resources/read', `${DOC}/%61rchitecture.md`],
    ['resources/subscribe', `DEMO://resource/static/document/architecture.md`],
    ['resources/subscribe', `demo://resource/static/x/../document/architecture.md`],
  ])('%s of %s is denied as the resource it names', async (method, uri) => {
    const res = await post(sidecar.url, read(uri, 11, method), session);
    expect(messageOf(res.text)).toMatchObject({
      id: 11,
      error: { code: -32003, data: { rule: 'no-secret' } },
    });
  });

  it('reads an allowed document through an alias', async () => {
    const res = await post(
      sidecar.url,
      read(`DEMO://resource/static/x/../document/features.md`, 12),
      session,
    );
    expect(messageOf(res.text)).toMatchObject({
      id: 12,
      result: { contents: [{ uri: `${DOC}/features.md` }] },
    });
  });
});
