import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { type ConfiguredRule, compilePolicy, decide } from '../../../sidecar/src/contract/index.ts';
import type { Principal } from '../../../sidecar/src/contract/principal.ts';
import { eventually, kubectl, kubectlJson } from '../../support/kube.ts';
import {
  applyManifest,
  condition,
  getJson,
  type ServerView,
  serverReady,
  setUpNamespace,
} from '../../support/operator.ts';

// An McpPolicy that is not accepted never loosens what its servers enforce: its last accepted
// version lives in its own status, so a server whose ConfigMap is recreated, or a server created
// while the policy is broken, gets that version too; a policy never accepted denies every call.
// Decisions are made by the sidecar's own authorizer over the rendered ConfigMap.

const EXAMPLES = new URL('../../../examples/', import.meta.url).pathname;
const example = (file: string) =>
  parse(readFileSync(join(EXAMPLES, file), 'utf8')) as Record<string, unknown>;

const engineer: Principal = {
  subject: 'alice',
  name: 'alice@example.com',
  groups: ['engineering'],
  method: 'oidc',
  scopes: [],
  claims: {},
};

interface PolicyView extends ServerView {
  status?: ServerView['status'] & { lastAccepted?: { generation: number; digest: string } };
}

async function rulesOf(server: string): Promise<ConfiguredRule[]> {
  const cm = await kubectlJson<{ data: Record<string, string> }>([
    '-n',
    ns.name,
    'get',
    `configmap/${server}`,
  ]);
  return (JSON.parse(cm.data['sidecar.json'] ?? '{}') as { authorization: { rules: ConfiguredRule[] } })
    .authorization.rules;
}

async function effect(server: string, tool: string) {
  const policy = compilePolicy(await rulesOf(server));
  return decide(policy, engineer, { method: 'tools/call', server, tool, arguments: {} });
}

function guardrails(when: string): string {
  const doc = example('policy-guardrails.yaml') as { spec: { rules: { name: string; when?: string }[] } };
  for (const r of doc.spec.rules) if (r.when) r.when = when;
  return JSON.stringify(doc);
}

const accepted = (name: string, status: string) =>
  eventually(`McpPolicy ${name} Accepted=${status}`, async () => {
    const p = await getJson<PolicyView>(ns.name, `mcppolicy/${name}`);
    const c = condition(p, 'Accepted');
    return c?.status === status && p.status?.observedGeneration === p.metadata.generation ? p : undefined;
  });

const ns = setUpNamespace('op-failclosed');

beforeAll(async () => {
  await kubectl(['-n', ns.name, 'apply', '-f', EXAMPLES]);
  await serverReady(ns.name, 'everything');
  await accepted('guardrails', 'True');
});

describe('a policy that is not accepted', () => {
  it('records its accepted spec in its status', async () => {
    const p = await accepted('guardrails', 'True');
    expect(p.status?.lastAccepted).toMatchObject({ generation: p.metadata.generation });
    expect(p.status?.lastAccepted?.digest).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect((await effect('everything', 'get-env')).effect).toBe('deny');
  });

  it('stays in force at its last accepted version on a server whose ConfigMap is recreated', async () => {
    await applyManifest(ns.name, guardrails('tool !='));
    const p = await accepted('guardrails', 'False');
    const before = (
      await kubectlJson<{ metadata: { uid: string } }>(['-n', ns.name, 'get', 'configmap/everything'])
    ).metadata.uid;
    await kubectl(['-n', ns.name, 'delete', 'configmap/everything']);
    await eventually('ConfigMap recreated', async () => {
      const cm = await kubectlJson<{ metadata: { uid: string } }>([
        '-n',
        ns.name,
        'get',
        'configmap/everything',
        '--ignore-not-found',
      ]).catch(() => undefined);
      return cm && cm.metadata.uid !== before ? true : undefined;
    });
    const noEnv = (await rulesOf('everything')).find((r) => r.name === 'no-env');
    expect(noEnv?.policy).toBe(`${ns.name}/guardrails`);
    const decision = await effect('everything', 'get-env');
    expect(decision.effect).toBe('deny');
    expect((await effect('everything', 'echo')).effect).toBe('allow');
    expect(condition(p, 'Accepted')?.message).toContain(
      `keep its last accepted version (generation ${p.status?.lastAccepted?.generation}`,
    );
  });

  it('stays in force on a server created while it is not accepted', async () => {
    const second = example('everything-server.yaml') as { metadata: { name: string } };
    second.metadata.name = 'everything-2';
    await applyManifest(ns.name, JSON.stringify(second));
    const s = await eventually('everything-2 rendered', async () => {
      const v = await getJson<ServerView>(ns.name, 'mcpserver/everything-2');
      return condition(v, 'PoliciesResolved')?.status === 'False' ? v : undefined;
    });
    expect((await effect('everything-2', 'get-env')).effect).toBe('deny');
    expect((await effect('everything-2', 'get-tiny-image')).effect).toBe('allow');
    expect(condition(s, 'PoliciesResolved')?.message).toMatch(
      /guardrails \(.*generation \d+ stays in force\)/,
    );
  });

  it('fails closed when it was never accepted, and says so', async () => {
    const fresh = JSON.parse(guardrails('tool !=')) as { metadata: { name: string } };
    fresh.metadata.name = 'fresh';
    await applyManifest(ns.name, JSON.stringify(fresh));
    const p = await accepted('fresh', 'False');
    await eventually('everything denies everything', async () =>
      (await effect('everything', 'echo')).effect === 'deny' ? true : undefined,
    );
    const decision = await effect('everything', 'get-tiny-image');
    expect(decision).toMatchObject({
      effect: 'deny',
      rule: { policy: `${ns.name}/fresh`, name: 'not-accepted' },
    });
    expect(decision.reason).toContain(`${ns.name}/fresh`);
    const s = await getJson<ServerView>(ns.name, 'mcpserver/everything');
    expect(condition(s, 'PoliciesResolved')?.message).toContain('fresh');
    expect(condition(s, 'PoliciesResolved')?.message).toContain('never accepted: every call is denied');
    expect(p.status?.lastAccepted).toBeUndefined();
    const message = condition(p, 'Accepted')?.message ?? '';
    expect(message).not.toContain('keep');
    expect(message).toContain('deny every call');
  });

  it('is in force again, and recorded, once fixed', async () => {
    await kubectl(['-n', ns.name, 'delete', 'mcppolicy/fresh']);
    await applyManifest(ns.name, guardrails('tool != "echo"'));
    const p = await accepted('guardrails', 'True');
    expect(p.status?.lastAccepted?.generation).toBe(p.metadata.generation);
    await eventually('echo allowed again', async () =>
      (await effect('everything', 'echo')).effect === 'allow' ? true : undefined,
    );
    expect((await effect('everything', 'get-env')).effect).toBe('deny');
  });
});
