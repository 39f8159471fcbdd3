import { describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { parseConfig } from '../../../../sidecar/src/config/load.ts';
import { policyPort } from '../../../../sidecar/src/server/runtime.ts';

const base = () => ({
  apiVersion: 'sidecar.portcullis.dev/v1alpha1',
  kind: 'SidecarConfig',
  server: { name: 's', canonicalUri: 'http://127.0.0.1/mcp' },
  listen: { port: 8080 },
  admin: { port: 9090 },
  upstream: { transport: 'streamable-http', url: 'http://127.0.0.1:3001/mcp' },
  authentication: {},
  authorization: { rules: [] as unknown[] },
});

type Mutation = (c: ReturnType<typeof base>) => void;

describe('parseConfig', () => {
  it('applies defaults', () => {
    const r = parseConfig(stringify(base()));
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.config.listen).toEqual({ host: '0.0.0.0', port: 8080, path: '/mcp' });
    expect(r.config.limits.maxBodyBytes).toBe(4 * 1024 * 1024);
    expect(r.config.authentication.allowAnonymous).toBe(false);
    expect(r.config.upstream.requestTimeoutMs).toBe(60_000);
  });

  it('gives a stdio upstream its process limits by default', () => {
    const r = parseConfig(stringify({ ...base(), upstream: { transport: 'stdio', command: 'server' } }));
    expect(r.ok ? r.config.upstream.processes : r.issues).toEqual({
      maxProcesses: 16,
      warm: 0,
      idleTimeoutMs: 600_000,
      stopGraceMs: 5_000,
    });
  });

  it('accepts a stdio upstream through the launcher without a command of its own', () => {
    const upstream = { transport: 'stdio', launcher: { socket: '/run/portcullis/launcher.sock' } };
    const r = parseConfig(stringify({ ...base(), upstream }));
    expect(r.ok ? r.config.upstream.launcher : r.issues).toEqual({ socket: '/run/portcullis/launcher.sock' });
  });

  it('reads JSON as well as YAML', () => {
    expect(parseConfig(JSON.stringify(base())).ok).toBe(true);
  });

  it('accepts a rule with its policy', () => {
    const c = base();
    c.authorization.rules = [
      { policy: 'ns/p', name: 'r', action: 'allow', subjects: [{ group: 'g' }], tools: ['*'] },
    ];
    expect(parseConfig(stringify(c)).ok).toBe(true);
  });

  it.each<[string, Mutation, string]>([
    ['unknown field', (c) => Object.assign(c.listen, { colour: 'red' }), '/listen/colour'],
    ['wrong type', (c) => Object.assign(c.listen, { port: 'eighty' }), '/listen/port'],
    ['missing section', (c) => Reflect.deleteProperty(c, 'upstream'), '/upstream'],
    ['bad url', (c) => Object.assign(c.upstream, { url: 'ftp://x' }), '/upstream/url'],
    [
      'stdio without command',
      (c) => Object.assign(c, { upstream: { transport: 'stdio' } }),
      '/upstream/command',
    ],
    ['http without url', (c) => Object.assign(c, { upstream: { transport: 'sse' } }), '/upstream/url'],
    [
      'stdio warm pool larger than the cap',
      (c) =>
        Object.assign(c, {
          upstream: { transport: 'stdio', command: 'x', processes: { maxProcesses: 2, warm: 3 } },
        }),
      '/upstream/processes/warm',
    ],
    [
      'stdio cap of zero',
      (c) =>
        Object.assign(c, { upstream: { transport: 'stdio', command: 'x', processes: { maxProcesses: 0 } } }),
      '/upstream/processes/maxProcesses',
    ],
    [
      'a launcher and a command of the sidecar',
      (c) =>
        Object.assign(c, {
          upstream: { transport: 'stdio', command: 'x', launcher: { socket: '/run/l.sock' } },
        }),
      '/upstream/launcher',
    ],
    [
      'a launcher socket that is not an absolute path',
      (c) => Object.assign(c, { upstream: { transport: 'stdio', launcher: { socket: 'l.sock' } } }),
      '/upstream/launcher/socket',
    ],
    [
      'a launcher on an HTTP upstream',
      (c) => Object.assign(c.upstream, { launcher: { socket: '/run/l.sock' } }),
      '/upstream/launcher',
    ],
    [
      'process limits on an HTTP upstream',
      (c) => Object.assign(c.upstream, { processes: { maxProcesses: 4 } }),
      '/upstream/processes',
    ],
    [
      'injecting Host',
      (c) => Object.assign(c.upstream, { headers: [{ name: 'Host', valueFrom: { env: 'X' } }] }),
      '/upstream/headers/0/name',
    ],
    [
      'upstream credentials for a stdio server',
      (c) =>
        Object.assign(c, {
          upstream: { transport: 'stdio', command: 'x', auth: { mode: 'perPrincipal', file: '/f' } },
        }),
      '/upstream/auth',
    ],
    [
      'an upstream credential in Content-Length',
      (c) =>
        Object.assign(c.upstream, {
          auth: { mode: 'headers', id: 'k', headers: [{ name: 'Content-Length', file: '/f' }] },
        }),
      '/upstream/auth/headers/0/name',
    ],
    [
      "callers' tokens sent for exchange in clear text to another host",
      (c) =>
        Object.assign(c.upstream, {
          auth: {
            mode: 'tokenExchange',
            tokenEndpoint: 'http://idp.example.com/token',
            clientId: 'gw',
            audience: 'https://up.example.com',
          },
        }),
      '/upstream/auth/tokenEndpoint',
    ],
    [
      'an upstream credential mode that does not exist',
      (c) => Object.assign(c.upstream, { auth: { mode: 'passthrough' } }),
      '/upstream/auth/mode',
    ],
    [
      'bad rule action',
      (c) =>
        c.authorization.rules.push({ policy: 'p', name: 'r', action: 'maybe', subjects: [{ group: 'g' }] }),
      '/authorization/rules/0/action',
    ],
    [
      'duplicate rule',
      (c) => {
        const rule = { policy: 'ns/p', name: 'r', action: 'allow', subjects: [{ group: 'g' }] };
        c.authorization.rules.push(rule, { ...rule });
      },
      '/authorization/rules/1/name',
    ],
  ])('names the path of a fault: %s', (_name, mutate, path) => {
    const c = base();
    mutate(c);
    const r = parseConfig(stringify(c));
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.issues.map((i) => i.path)).toContain(path);
  });

  it('reports YAML syntax errors', () => {
    const r = parseConfig('listen: [unclosed');
    expect(r.ok).toBe(false);
  });

  it('gives the same digest for the same text', () => {
    expect(parseConfig('a: 1').digest).toBe(parseConfig('a: 1').digest);
  });
});

describe('the example configuration', () => {
  it('is valid (so the documented example never goes stale)', async () => {
    const { readFile } = await import('node:fs/promises');
    const r = parseConfig(
      await readFile(new URL('../../../../sidecar/src/config/example.yaml', import.meta.url), 'utf8'),
    );
    expect(r.ok ? [] : r.issues).toEqual([]);
    // and its rules compile (CEL included)
    if (r.ok) expect(() => policyPort(r.config)).not.toThrow();
  });
});
