import { describe, expect, it } from 'vitest';
import type { McpPolicy } from '../../../../operator/src/api/mcp-policy.ts';
import type { McpServer } from '../../../../operator/src/api/mcp-server.ts';
import type { OperatorDefaults } from '../../../../operator/src/api/operator-defaults.ts';
import { CONFIG_FILE } from '../../../../operator/src/render/layout.ts';
import { renderServer } from '../../../../operator/src/render/render-server.ts';
import { validateConfig } from '../../../../sidecar/src/config/load.ts';
import { compilePolicy, decide } from '../../../../sidecar/src/contract/index.ts';
import type { Principal } from '../../../../sidecar/src/contract/principal.ts';
import { defaults, policy, rule, server } from '../api/builders.ts';

// The ConfigMap holds a configuration the sidecar itself accepts: each case goes through the
// sidecar's own loader (SidecarConfig schema, defaults and semantic checks).

function render(
  s: McpServer = server(),
  policies: McpPolicy[] = [policy()],
  d: OperatorDefaults = defaults(),
) {
  const r = renderServer({ server: s, policies, defaults: d });
  if (!r.ok) throw r.error;
  return r;
}

const cases: { name: string; s: McpServer; policies: McpPolicy[]; d: OperatorDefaults }[] = [
  { name: 'a plain server with one policy', s: server(), policies: [policy()], d: defaults() },
  { name: 'no policies at all (every call denied)', s: server(), policies: [], d: defaults() },
  { name: 'an sse server', s: server({ hosted: { transport: 'sse' } }), policies: [policy()], d: defaults() },
  {
    name: 'every authentication override',
    s: server({
      spec: {
        authentication: {
          audiences: ['mcp-clients'],
          issuers: [{ issuer: 'https://partner.example.test' }],
          requiredScopes: ['mcp'],
          apiKeys: { secretRef: { name: 'keys', key: 'keys.yaml' } },
          allowAnonymous: true,
        },
      },
    }),
    policies: [
      policy(),
      policy({ name: 'other', rules: [rule({ name: 'r2', when: 'principal.claims.acr == "mfa"' })] }),
    ],
    d: defaults(),
  },
  {
    name: 'a tool allow list and raised audit capture',
    s: server({ spec: { tools: { allow: ['echo', 'get-*'] }, audit: { payloads: 'full' } } }),
    policies: [policy()],
    d: defaults(),
  },
  {
    name: 'cluster audit sinks, limits and telemetry',
    s: server(),
    policies: [policy()],
    d: defaults({
      audit: {
        failureMode: 'closed',
        sinks: [{ type: 'stdout' }, { type: 'syslog', host: 'rsyslog', port: 6514 }],
      },
      limits: { maxBodyBytes: 65536 },
      telemetry: { otlpEndpoint: 'http://collector:4318', sidecar: { serviceName: 'gate' } },
    }),
  },
  {
    name: 'rate limits',
    s: server({
      spec: {
        rateLimits: [
          { name: 'per-caller', per: 'principal', requestsPerSecond: 2, burst: 10 },
          { name: 'exports', per: 'tool', tools: ['export_*'], requestsPerSecond: 0.1, burst: 1 },
        ],
      },
    }),
    policies: [policy()],
    d: defaults(),
  },
  {
    name: 'no identity providers at all',
    s: server(),
    policies: [policy()],
    d: defaults({ authentication: {} }),
  },
];

describe('buildSidecarConfig', () => {
  it.each(cases)('renders a configuration the sidecar accepts: $name', ({ s, policies, d }) => {
    const r = render(s, policies, d);
    const text = r.children.configMap.data?.[CONFIG_FILE] as string;
    const loaded = validateConfig(JSON.parse(text));
    expect(loaded.ok ? [] : loaded.issues).toEqual([]);
  });

  it('passes spec.rateLimits to the sidecar as they are', () => {
    const c = cases.find((x) => x.name === 'rate limits');
    const { config } = render(c?.s, c?.policies);
    expect(config.rateLimits).toEqual(c?.s.spec.rateLimits);
    expect(render().config.rateLimits).toBeUndefined();
  });

  it('accepts tokens for the server URL plus the extra audiences, from cluster and extra issuers', () => {
    const { config } = render(cases[3]?.s, cases[3]?.policies);
    const url = 'http://everything.team-a.svc.cluster.local/mcp';
    expect(config.authentication.oidc?.map((o) => [o.issuer, o.audiences])).toEqual([
      ['https://idp.example.test', [url, 'mcp-clients']],
      ['https://partner.example.test', [url, 'mcp-clients']],
    ]);
    expect(config.authentication.serviceAccounts).toMatchObject({
      audiences: [url, 'mcp-clients'],
      tokenFile: '/var/run/secrets/kubernetes.io/serviceaccount/token',
      caFile: '/var/run/secrets/kubernetes.io/serviceaccount/ca.crt',
    });
    expect(config.authentication.apiKeysFile).toBe('/etc/portcullis/api-keys/keys.yaml');
    expect(config.authentication.allowAnonymous).toBe(true);
    expect(config.authentication.requiredScopes).toEqual(['mcp']);
  });

  it('writes the rules of every policy, tagged with the policy, ordered by policy name', () => {
    const { config } = render(server(), [
      policy({ name: 'b', rules: [rule({ name: 'x' }), rule({ name: 'y' })] }),
      policy({ name: 'a', rules: [rule({ name: 'z' })] }),
    ]);
    expect(config.authorization.rules.map((r) => `${r.policy}:${r.name}`)).toEqual([
      'team-a/a:z',
      'team-a/b:x',
      'team-a/b:y',
    ]);
  });

  it.each([
    { cluster: 'metadata', server: undefined, result: 'metadata' },
    { cluster: 'metadata', server: 'full', result: 'full' },
    { cluster: 'redacted', server: 'metadata', result: 'redacted' },
    { cluster: 'full', server: 'redacted', result: 'full' },
    { cluster: undefined, server: 'redacted', result: 'redacted' },
  ] as const)('audit capture: cluster $cluster, server $server -> $result (raise, never lower)', (c) => {
    const d = defaults({ audit: c.cluster ? { payloads: { capture: c.cluster, maxBytes: 1024 } } : {} });
    const s = server({ spec: c.server ? { audit: { payloads: c.server } } : {} });
    const { config } = render(s, [policy()], d);
    expect(config.audit?.payloads?.capture).toBe(c.result);
    if (c.cluster) expect(config.audit?.payloads?.maxBytes).toBe(1024);
  });

  it('keeps the cluster audit sinks whatever the server says', () => {
    const d = defaults({ audit: { sinks: [{ type: 'stdout' }] } });
    const { config } = render(server({ spec: { audit: { payloads: 'full' } } }), [policy()], d);
    expect(config.audit?.sinks).toEqual([{ type: 'stdout' }]);
  });
});

describe('tools allow list', () => {
  const alice: Principal = {
    subject: 'alice',
    name: 'alice',
    groups: ['engineering'],
    method: 'oidc',
    scopes: [],
    claims: {},
  };
  const everythingAllowed = policy({
    rules: [rule({ tools: ['*'], subjects: [{ anyAuthenticated: true }] })],
  });

  it.each([
    { allow: undefined, tool: 'get-env', effect: 'allow' },
    { allow: ['echo', 'get-*'], tool: 'echo', effect: 'allow' },
    { allow: ['echo', 'get-*'], tool: 'get-sum', effect: 'allow' },
    { allow: ['echo', 'get-*'], tool: 'trigger-sampling-request', effect: 'deny' },
    { allow: ['echo', 'get-*'], tool: 'echo2', effect: 'deny' },
    { allow: ['e.ho'], tool: 'echo', effect: 'deny' },
    { allow: ['ech?'], tool: 'echo', effect: 'allow' },
    { allow: [], tool: 'echo', effect: 'deny' },
  ])('allow $allow, tool $tool: $effect even when a policy allows every tool', ({ allow, tool, effect }) => {
    const s = server({ spec: allow ? { tools: { allow } } : {} });
    const { config } = render(s, [everythingAllowed]);
    const decision = decide(compilePolicy(config.authorization.rules), alice, {
      method: 'tools/call',
      server: 'everything',
      tool,
    });
    expect(decision.effect).toBe(effect);
  });
});
