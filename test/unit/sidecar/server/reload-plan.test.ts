import { describe, expect, it } from 'vitest';
import type { EffectiveConfig } from '../../../../sidecar/src/config/load.ts';
import { planReload } from '../../../../sidecar/src/server/reload-plan.ts';
import { config } from '../../../support/harness.ts';

// What a reload rebuilds, keeps, and leaves to the next restart, from the old and the new
// configuration alone.

const http = config({ upstream: { transport: 'streamable-http', url: 'http://127.0.0.1:9/mcp' } });
const stdio = config({ upstream: { transport: 'stdio', command: 'server', args: ['--a'] } });
const RESTART =
  'listen, upstream.transport and the stdio command and processes take effect at the next restart';
const PINNING = 'pinning switched on takes effect at the next restart';

type Change = (c: EffectiveConfig) => EffectiveConfig;
const upstream =
  (u: Partial<EffectiveConfig['upstream']>): Change =>
  (c) => ({ ...c, upstream: { ...c.upstream, ...u } });

describe('planReload over an HTTP upstream', () => {
  it.each<[string, Change, { newUpstream?: boolean; newCredentials?: boolean; atNextRestart?: string[] }]>([
    ['nothing changed', (c) => c, {}],
    ['only the rules', (c) => ({ ...c, authorization: { rules: [] } }), {}],
    ['the upstream URL', upstream({ url: 'http://127.0.0.1:10/mcp' }), { newUpstream: true }],
    ['a timeout', upstream({ requestTimeoutMs: 1234 }), { newUpstream: true }],
    ['TLS', upstream({ tls: { serverName: 'mcp.example' } }), { newUpstream: true }],
    [
      'the circuit breaker',
      upstream({ circuitBreaker: { failureThreshold: 9, openMs: 1000 } as never }),
      { newUpstream: true },
    ],
    [
      'upstream.auth',
      upstream({ auth: { headers: { 'x-key': { valueFrom: { env: 'K' } } } } as never }),
      { newCredentials: true },
    ],
    ['the listen port', (c) => ({ ...c, listen: { ...c.listen, port: 2 } }), { atNextRestart: [RESTART] }],
    [
      'the listen path',
      (c) => ({ ...c, listen: { ...c.listen, path: '/other' } }),
      { atNextRestart: [RESTART] },
    ],
    [
      'pinning switched on',
      (c) => ({ ...c, pinning: { mode: 'Enforce' } as EffectiveConfig['pinning'] }),
      { atNextRestart: [PINNING] },
    ],
  ])('%s', (_name, change, expected) => {
    expect(planReload(http, change(http), { stdioBridge: false, pinning: false })).toEqual({
      newUpstream: false,
      newCredentials: false,
      reconfigurePinning: false,
      atNextRestart: [],
      ...expected,
    });
  });
});

describe('planReload over a stdio upstream', () => {
  it('keeps the bridge whatever changes, and says the command changes at the next restart', () => {
    const next = { ...stdio, upstream: { ...stdio.upstream, args: ['--b'], requestTimeoutMs: 1 } };
    expect(planReload(stdio, next, { stdioBridge: true, pinning: false })).toMatchObject({
      newUpstream: false,
      atNextRestart: [RESTART],
    });
  });
});

describe('planReload with pinning running', () => {
  it('reconfigures it, switched off included', () => {
    const off = { ...http, pinning: { mode: 'Off' } as EffectiveConfig['pinning'] };
    expect(planReload(http, off, { stdioBridge: false, pinning: true })).toMatchObject({
      reconfigurePinning: true,
      atNextRestart: [],
    });
  });
});
