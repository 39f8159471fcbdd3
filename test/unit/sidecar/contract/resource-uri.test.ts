import { describe, expect, it } from 'vitest';
import { normalizeTargetUris } from '../../../../sidecar/src/contract/methods.ts';
import {
  normalizeResourceUri,
  resourcePatternProblem,
} from '../../../../sidecar/src/contract/resource-uri.ts';

// Aliases of one resource normalize to one string, the one the MCP SDK server itself looks up
// (new URL(uri).toString()), so a rule naming the resource covers every spelling of it.

const SECRET = 'demo://resource/static/document/architecture.md';

describe('normalizeResourceUri', () => {
  it.each([
    ['uppercase scheme', 'DEMO://resource/static/document/architecture.md'],
    ['uppercase host', 'demo://RESOURCE/static/document/architecture.md'],
    ['a dot segment', 'demo://resource/static/./document/architecture.md'],
    ['a double-dot segment', 'demo://resource/static/x/../document/architecture.md'],
    ['percent-encoded dots', 'demo://resource/static/x/%2e%2E/document/architecture.md'],
    ['a percent-encoded letter', 'demo://resource/static/document/%61rchitecture.md'],
    ['surrounding spaces', `  ${SECRET} `],
  ])('%s is the same resource', (_name, alias) => {
    expect(normalizeResourceUri(alias)).toBe(SECRET);
  });

  it.each([
    ['encoded reserved characters stay encoded, hex uppercased', 'demo://r/a%2fb', 'demo://r/a%2Fb'],
    ['a space is encoded', 'demo://r/a b', 'demo://r/a%20b'],
    ['an http URL loses its default port', 'HTTP://Example.COM:80/a/./b', 'http://example.com/a/b'],
    ['query and fragment are kept', 'demo://r/a?x=%41&y=%2f#f', 'demo://r/a?x=A&y=%2F#f'],
    ['a file URL', 'file:///srv/data/../etc/passwd', 'file:///srv/etc/passwd'],
  ])('%s', (_name, uri, expected) => {
    expect(normalizeResourceUri(uri)).toBe(expected);
  });

  it.each(['relative/path', '', '../x', 'http://[::1'])('%j is not an absolute URI', (uri) => {
    expect(normalizeResourceUri(uri)).toBeUndefined();
  });

  it.each([
    SECRET,
    'demo://r/a%2fb%c3%a9',
    'DEMO://R%C3%89S/x/../y?q=%7e',
    'file:///C:/x/../y',
    'demo:opaque/../x',
  ])('is idempotent on %s', (uri) => {
    const once = normalizeResourceUri(uri) as string;
    expect(normalizeResourceUri(once)).toBe(once);
  });
});

describe('resourcePatternProblem', () => {
  it.each(['*', '*%2F*', 'demo://resource/*', 'repo://acme/secret*', 'file:///etc/*', 'demo://resource/??'])(
    '%s is usable',
    (p) => {
      expect(resourcePatternProblem(p)).toBeUndefined();
    },
  );
  it.each(['DEMO://resource/*', 'demo://resource/./x', 'demo://resource/%61*', 'not-a-uri'])(
    '%s is refused',
    (p) => {
      expect(resourcePatternProblem(p)).toBeTypeOf('string');
    },
  );
});

describe('normalizeTargetUris rewrites what a method is decided on, in place', () => {
  it.each(['resources/read', 'resources/subscribe', 'resources/unsubscribe'])('%s params.uri', (method) => {
    const params = { uri: 'DEMO://resource/static/x/../document/architecture.md' };
    expect(normalizeTargetUris(method, params)).toBeUndefined();
    expect(params.uri).toBe(SECRET);
  });

  it('every subscription of subscriptions/listen', () => {
    const params = { notifications: { resourceSubscriptions: ['demo://a/./b', 'DEMO://a/c'] } };
    expect(normalizeTargetUris('subscriptions/listen', params)).toBeUndefined();
    expect(params.notifications.resourceSubscriptions).toEqual(['demo://a/b', 'demo://a/c']);
  });

  it('refuses a URI that is not absolute', () => {
    expect(normalizeTargetUris('resources/read', { uri: '../secret' })).toContain('params.uri');
  });

  it('leaves completion refs (templates) and other methods alone', () => {
    const completion = { ref: { type: 'ref/resource', uri: 'demo://r/{id}' } };
    expect(normalizeTargetUris('completion/complete', completion)).toBeUndefined();
    expect(completion.ref.uri).toBe('demo://r/{id}');
    const call = { name: 'DEMO://x/../y' };
    normalizeTargetUris('tools/call', call);
    expect(call.name).toBe('DEMO://x/../y');
  });
});
