import { describe, expect, it } from 'vitest';
import { validateConfig } from '../../../../sidecar/src/config/load.ts';

const config = (auth: unknown, pinning?: unknown) => ({
  apiVersion: 'sidecar.portcullis.dev/v1alpha1',
  kind: 'SidecarConfig',
  server: { name: 's', canonicalUri: 'http://127.0.0.1/mcp' },
  listen: { port: 8080 },
  admin: { port: 9090 },
  upstream: { transport: 'streamable-http', url: 'https://up.example.com/mcp', auth },
  authentication: {},
  authorization: { rules: [] },
  ...(pinning === undefined ? {} : { pinning }),
});

const exchange = {
  mode: 'tokenExchange',
  tokenEndpoint: 'https://idp.example.com/token',
  clientId: 'gw',
  audience: 'https://up.example.com',
};

describe('configWarnings', () => {
  it.each([
    ['perPrincipal', { mode: 'perPrincipal', file: '/f' }],
    ['tokenExchange', exchange],
  ])('says that %s gives the pinning session no identity (pinning on by default)', (mode, auth) => {
    const r = validateConfig(config(auth));
    expect(r.ok && r.warnings).toEqual([
      {
        path: '/upstream/auth/mode',
        message: expect.stringMatching(
          new RegExp(`^${mode} gives the sidecar's own pinning session no identity`),
        ),
      },
    ]);
  });

  it.each([
    [
      'a server credential from a Secret',
      { mode: 'headers', id: 'k', headers: [{ name: 'X-K', file: '/f' }] },
      undefined,
    ],
    ['perPrincipal with pinning off', { mode: 'perPrincipal', file: '/f' }, { mode: 'Off' }],
  ])('is silent for %s', (_name, auth, pinning) => {
    const r = validateConfig(config(auth, pinning));
    expect(r.ok && r.warnings).toEqual([]);
  });
});
