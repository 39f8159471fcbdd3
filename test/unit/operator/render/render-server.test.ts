import { describe, expect, it } from 'vitest';
import type { McpServer } from '../../../../operator/src/api/mcp-server.ts';
import { renderServer } from '../../../../operator/src/render/render-server.ts';
import { defaults, policy, server } from '../api/builders.ts';

const without = (patch: (s: McpServer) => void) => {
  const s = server();
  patch(s);
  return s;
};

describe('renderServer', () => {
  it.each([
    {
      name: 'a stdio server without a command',
      object: without((s) => {
        if (s.spec.hosted) s.spec.hosted.transport = 'stdio';
        delete s.spec.hosted?.port;
      }),
      code: 'RENDER_MISSING_FIELD',
      reason: 'InvalidSpec',
    },
    {
      name: 'an external source',
      object: without((s) => {
        delete s.spec.hosted;
        Object.assign(s.spec, { external: {} });
      }),
      code: 'RENDER_UNSUPPORTED_SOURCE',
      reason: 'Unsupported',
    },
    {
      name: 'the sidecar port',
      object: server({ hosted: { port: 8080 } }),
      code: 'RENDER_PORT_CONFLICT',
      reason: 'InvalidSpec',
    },
    {
      name: 'the sidecar admin port',
      object: server({ hosted: { port: 9090 } }),
      code: 'RENDER_PORT_CONFLICT',
      reason: 'InvalidSpec',
    },
    {
      name: 'an object without uid',
      object: without((s) => delete s.metadata.uid),
      code: 'RENDER_MISSING_METADATA',
      reason: 'InvalidSpec',
    },
  ])('refuses $name with a reason for the Ready condition', ({ object, code, reason }) => {
    const r = renderServer({ server: object, policies: [], defaults: defaults() });
    expect(r.ok).toBe(false);
    if (!r.ok) {
      expect(r.error.code).toBe(code);
      expect(r.error.reason).toBe(reason);
      expect(r.error.message.length).toBeGreaterThan(20);
    }
  });

  it.each([
    {
      name: 'streamable-http',
      hosted: {},
      url: 'http://everything.team-a.svc.cluster.local/mcp',
      upstream: 'http://127.0.0.1:3001/mcp',
    },
    {
      name: 'sse',
      hosted: { transport: 'sse' as const },
      url: 'http://everything.team-a.svc.cluster.local/sse',
      upstream: 'http://127.0.0.1:3001/sse',
    },
    {
      name: 'a custom path',
      hosted: { path: '/v1/mcp' },
      url: 'http://everything.team-a.svc.cluster.local/v1/mcp',
      upstream: 'http://127.0.0.1:3001/v1/mcp',
    },
  ])('reports the in-cluster URL for $name', ({ hosted, url, upstream }) => {
    const r = renderServer({ server: server({ hosted }), policies: [policy()], defaults: defaults() });
    if (!r.ok) throw r.error;
    expect(r.url).toBe(url);
    expect(r.config.server.canonicalUri).toBe(url);
    expect(r.config.upstream.url).toBe(upstream);
  });

  it('names the policies in force, sorted', () => {
    const r = renderServer({
      server: server(),
      policies: [policy({ name: 'zeta' }), policy({ name: 'alpha' })],
      defaults: defaults(),
    });
    if (!r.ok) throw r.error;
    expect(r.policies).toEqual(['alpha', 'zeta']);
  });
});
