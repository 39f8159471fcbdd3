import { randomBytes } from 'node:crypto';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { RunningSidecar } from '../../../sidecar/src/server/sidecar.ts';
import { type EchoUpstream, startEchoUpstream } from '../../support/echo-upstream.ts';
import { KEYS, type Recorded } from '../../support/harness.ts';
import { createNamespace } from '../../support/kube.ts';
import { startOidcProvider, type TestOidcProvider } from '../../support/oidc-provider.ts';
import { runPlugin } from '../../support/plugin.ts';
import {
  RENDERED_CANONICAL_URI,
  renderedConfig,
  startRenderedSidecar,
} from '../../support/rendered-sidecar.ts';
import {
  applyCrds,
  applyManifest,
  type InProcessOperator,
  serverReady,
  startOperator,
} from '../operator/harness.ts';

// `kubectl portcullis can-i` reads the rules the operator rendered for a server and must give the
// answer the live sidecar gives: a sidecar runs with exactly that rendered authorization section (its
// listener, upstream and identity providers are the test's), and each case of the table is asked of
// both, with the same principal (an API key, or a JWT from a real OpenID provider): allowed by one
// means allowed by the other, and the deciding rule is the same.

const SERVER = 'tools';

const POLICY = {
  apiVersion: 'portcullis.dev/v1alpha1',
  kind: 'McpPolicy',
  metadata: { name: 'team' },
  spec: {
    servers: { matchLabels: { team: 'cani' } },
    rules: [
      {
        name: 'engineers',
        action: 'allow',
        subjects: [{ group: 'engineering' }],
        tools: ['alpha', 'beta', 'epsilon'],
      },
      {
        name: 'bob-small-gamma',
        action: 'allow',
        subjects: [{ apiKey: 'bob' }],
        tools: ['gamma'],
        when: 'has(arguments.n) && arguments.n < 10',
      },
      { name: 'no-beta-for-alice', action: 'deny', subjects: [{ user: 'alice' }], tools: ['beta'] },
      {
        name: 'contractors-delta-by-token',
        action: 'allow',
        subjects: [{ claim: { name: 'employment', value: 'contractor' } }],
        tools: ['delta'],
        when: 'principal.method == "oidc"',
      },
    ],
  },
};

type Who = { key: keyof typeof KEYS } | { client: 'portcullis-test' | 'contractor' };

interface Case {
  who: Who;
  tool: string;
  args?: Record<string, unknown>;
  allowed: boolean;
  rule?: string;
}

const CASES: Case[] = [
  { who: { key: 'alice' }, tool: 'alpha', allowed: true, rule: 'engineers' },
  { who: { key: 'alice' }, tool: 'beta', allowed: false, rule: 'no-beta-for-alice' },
  { who: { key: 'bob' }, tool: 'alpha', allowed: false },
  { who: { key: 'bob' }, tool: 'gamma', args: { n: 3 }, allowed: true, rule: 'bob-small-gamma' },
  { who: { key: 'bob' }, tool: 'gamma', args: { n: 30 }, allowed: false },
  { who: { key: 'mallory' }, tool: 'gamma', args: { n: 3 }, allowed: false },
  // epsilon is allowed by the policy but outside the server's spec.tools.allow
  { who: { key: 'alice' }, tool: 'epsilon', allowed: false, rule: 'tools-allow-list' },
  { who: { client: 'portcullis-test' }, tool: 'beta', allowed: true, rule: 'engineers' },
  { who: { client: 'portcullis-test' }, tool: 'delta', allowed: false },
  { who: { client: 'contractor' }, tool: 'delta', allowed: true, rule: 'contractors-delta-by-token' },
  { who: { client: 'contractor' }, tool: 'alpha', allowed: false },
];

let ns: Awaited<ReturnType<typeof createNamespace>>;
let op: InProcessOperator;
let upstream: EchoUpstream;
let idp: TestOidcProvider;
let sidecar: RunningSidecar;
let records: Recorded;

beforeAll(async () => {
  await applyCrds();
  ns = await createNamespace('can-i');
  op = await startOperator(ns.name);
  upstream = await startEchoUpstream();
  idp = await startOidcProvider({
    clients: [
      {
        clientId: 'portcullis-test',
        clientSecret: randomBytes(24).toString('base64url'),
        groups: ['engineering'],
      },
      {
        clientId: 'contractor',
        clientSecret: randomBytes(24).toString('base64url'),
        groups: ['outside'],
        claims: { employment: 'contractor' },
      },
    ],
  });
  await applyManifest(
    ns.name,
    JSON.stringify({
      apiVersion: 'portcullis.dev/v1alpha1',
      kind: 'McpServer',
      metadata: { name: SERVER, labels: { team: 'cani' } },
      spec: {
        hosted: { image: 'mcp/everything:latest', transport: 'streamable-http', port: 3001 },
        tools: {
          allow: ['alpha', 'beta', 'gamma', 'delta'],
          // Approved definitions name the server's tools to the cluster (for can-i --all).
          pins: ['alpha', 'beta', 'epsilon'].map((name) => ({
            kind: 'tool',
            name,
            digest: `sha256:${'0'.repeat(64)}`,
          })),
        },
      },
    }),
  );
  await applyManifest(ns.name, JSON.stringify(POLICY));
  await serverReady(ns.name, SERVER);
  const rendered = await renderedConfig(ns.name, SERVER, (c) =>
    c.authorization.rules.some((r) => r.policy === `${ns.name}/team`),
  );
  ({ sidecar, records } = await startRenderedSidecar(rendered, {
    upstreamUrl: upstream.url,
    oidcIssuer: idp.issuer,
  }));
});

afterAll(async () => {
  await sidecar?.close();
  await upstream?.close();
  await idp?.close();
  await op?.stop();
  await ns?.remove();
});

async function credentialOf(who: Who): Promise<Record<string, string>> {
  if ('key' in who) return { 'x-api-key': KEYS[who.key] };
  return {
    authorization: `Bearer ${await idp.token({ resource: RENDERED_CANONICAL_URI, clientId: who.client })}`,
  };
}

/** The sidecar's answer: allowed or not, and the rule its audit record names. */
async function askSidecar(c: Case): Promise<{ allowed: boolean; rule?: string }> {
  const client = new Client({ name: 'can-i-check', version: '1' });
  await client.connect(
    new StreamableHTTPClientTransport(new URL(sidecar.url), {
      requestInit: { headers: await credentialOf(c.who) },
    }),
  );
  try {
    const before = records.records.length;
    let allowed = true;
    try {
      await client.callTool({ name: c.tool, arguments: c.args ?? {} });
    } catch {
      allowed = false;
    }
    const record = records.records.slice(before).find((r) => r.method === 'tools/call');
    expect(record?.decision?.effect).toBe(allowed ? 'allow' : 'deny');
    return { allowed, ...(record?.decision?.rule ? { rule: record.decision.rule } : {}) };
  } finally {
    await client.close();
  }
}

/** The plugin's answer for the same principal, read from the live cluster. */
async function askPlugin(c: Case): Promise<{ allowed: boolean; rule?: string; code: number | null }> {
  const who =
    'key' in c.who
      ? (() => {
          const key = { alice: ['alice', 'engineering'], bob: ['bob', 'sales'], mallory: ['mallory', ''] }[
            c.who.key
          ];
          return ['--as', key[0] as string, '--groups', key[1] as string, '--api-key', c.who.key];
        })()
      : c.who.client === 'contractor'
        ? [
            '--as',
            'contractor',
            '--groups',
            'outside',
            '--claim',
            'employment=contractor',
            '--issuer',
            idp.issuer,
          ]
        : ['--as', 'portcullis-test', '--groups', 'engineering', '--issuer', idp.issuer];
  const r = await runPlugin(
    ['can-i', '-n', ns.name, ...who, 'call', c.tool, 'on', SERVER, '--args', JSON.stringify(c.args ?? {})],
    { ...process.env, KUBECONFIG: inject('kubeconfig') },
  );
  expect([0, 1], r.stderr).toContain(r.code);
  const rule = /^rule: (\S+) /m.exec(r.stdout)?.[1];
  return { allowed: r.code === 0, code: r.code, ...(rule ? { rule } : {}) };
}

const label = (c: Case) =>
  `${'key' in c.who ? `API key ${c.who.key}` : `JWT of ${c.who.client}`} calls ${c.tool}${c.args ? ` ${JSON.stringify(c.args)}` : ''}`;

describe('can-i agrees with the live sidecar', () => {
  it.each(CASES.map((c) => [label(c), c] as const))('%s', async (_, c) => {
    const [live, plugin] = await Promise.all([askSidecar(c), askPlugin(c)]);
    // Both ways: what the sidecar allows can-i allows, what it denies can-i denies, by the same rule.
    expect(plugin.allowed).toBe(live.allowed);
    expect(plugin.rule).toBe(live.rule);
    // And the table means what it says, so agreement is not two wrong answers.
    expect(live.allowed).toBe(c.allowed);
    expect(live.rule).toBe(c.rule);
  });

  it('--all lists every pinned tool with the call decision and whether tools/list shows it', async () => {
    const r = await runPlugin(
      [
        'can-i',
        '-n',
        ns.name,
        '--as',
        'alice',
        '--groups',
        'engineering',
        '--api-key',
        'alice',
        '--all',
        'on',
        SERVER,
      ],
      { ...process.env, KUBECONFIG: inject('kubeconfig') },
    );
    expect(r.code, r.stderr).toBe(0);
    const rows = r.stdout
      .trim()
      .split('\n')
      .map((l) => l.split(/\s{3,}/).slice(0, 4));
    expect(rows).toEqual([
      ['TOOL', 'CALL', 'LISTED', 'RULE'],
      ['alpha', 'yes', 'yes', `${ns.name}/team/engineers`],
      ['beta', 'no', 'no', `${ns.name}/team/no-beta-for-alice`],
      ['epsilon', 'no', 'no', `McpServer ${ns.name}/${SERVER}/tools-allow-list`],
    ]);
  });

  it('a server without a rendered configuration is an error (exit 2), not a denial', async () => {
    const r = await runPlugin(['can-i', '-n', ns.name, '--as', 'alice', 'call', 'alpha', 'on', 'nope'], {
      ...process.env,
      KUBECONFIG: inject('kubeconfig'),
    });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`ConfigMap ${ns.name}/nope not found`);
  });
});
