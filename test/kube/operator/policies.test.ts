import { beforeAll, describe, expect, it } from 'vitest';
import { eventually, kubectl, kubectlJson } from '../../support/kube.ts';
import {
  applyManifest,
  condition,
  getJson,
  hostedServer,
  policyManifest,
  type ServerView,
  serverReady,
  setUpNamespace,
} from '../../support/operator.ts';

// Policy edits reach exactly the ConfigMaps of the servers they select; an invalid policy is marked
// Accepted=False and the servers keep its last good version.

interface Rule {
  name: string;
  policy: string;
  tools?: string[];
}

async function configOf(server: string): Promise<{ rv: string; rules: Rule[] }> {
  const cm = await kubectlJson<{ metadata: { resourceVersion: string }; data: Record<string, string> }>([
    '-n',
    ns.name,
    'get',
    `configmap/${server}`,
  ]);
  const config = JSON.parse(Object.values(cm.data)[0] ?? '{}') as { authorization: { rules: Rule[] } };
  return { rv: cm.metadata.resourceVersion, rules: config.authorization.rules };
}

const policyRules = (rules: Rule[]) => rules.filter((r) => r.policy.startsWith(`${ns.name}/`));

async function settle(): Promise<void> {
  await eventually('queue idle', async () =>
    ns.op.operator.serverController.queue.length === 0 ? true : undefined,
  );
  await new Promise((r) => setTimeout(r, 1500));
}

const ns = setUpNamespace('op-policies');

beforeAll(async () => {
  await applyManifest(ns.name, hostedServer('pay-a', { team: 'payments' }));
  await applyManifest(ns.name, hostedServer('pay-b', { team: 'payments' }));
  await applyManifest(ns.name, hostedServer('web', { team: 'web' }));
  for (const s of ['pay-a', 'pay-b', 'web']) await serverReady(ns.name, s);
});

describe('McpPolicy', () => {
  it('adding a policy updates exactly the ConfigMaps of the servers it selects', async () => {
    await settle();
    const web = await configOf('web');
    await applyManifest(ns.name, policyManifest('payments-read', { team: 'payments' }, ['get_*']));
    for (const s of ['pay-a', 'pay-b']) {
      await eventually(`${s} has the rule`, async () =>
        policyRules((await configOf(s)).rules).some((r) => r.policy === `${ns.name}/payments-read`)
          ? true
          : undefined,
      );
    }
    await settle();
    expect((await configOf('web')).rv).toBe(web.rv);
    const policy = await getJson<ServerView & { status: { servers: string[] } }>(
      ns.name,
      'mcppolicy/payments-read',
    );
    expect(policy.status.servers).toEqual(['pay-a', 'pay-b']);
    const server = await serverReady(ns.name, 'pay-a');
    expect(server.status?.policies).toEqual(['payments-read']);
  });

  it('editing a policy updates its servers and leaves the others alone, without restarting pods', async () => {
    await settle();
    const web = await configOf('web');
    const generation = async () =>
      (await kubectlJson<{ metadata: { generation: number } }>(['-n', ns.name, 'get', 'deployment/pay-b']))
        .metadata.generation;
    const before = await generation();
    await applyManifest(ns.name, policyManifest('payments-read', { team: 'payments' }, ['get_*', 'list_*']));
    await eventually('pay-b updated', async () =>
      policyRules((await configOf('pay-b')).rules)[0]?.tools?.includes('list_*') ? true : undefined,
    );
    await settle();
    expect((await configOf('web')).rv).toBe(web.rv);
    // The sidecar reloads its mounted configuration; the pod template (and so the pods) stay.
    expect(await generation()).toBe(before);
  });

  it('an invalid policy is Accepted=False with the error, and the servers keep the last good version', async () => {
    await settle();
    const before = await configOf('pay-a');
    await applyManifest(
      ns.name,
      policyManifest(
        'payments-read',
        { team: 'payments' },
        ['delete_everything'],
        'arguments.owner ==== "x"',
      ),
    );
    const policy = await eventually('Accepted=False', async () => {
      const p = await getJson<ServerView>(ns.name, 'mcppolicy/payments-read');
      const accepted = condition(p, 'Accepted');
      return accepted?.status === 'False' ? p : undefined;
    });
    expect(condition(policy, 'Accepted')?.message).toContain('r1');
    const server = await eventually('server reports the rejected policy', async () => {
      const s = await getJson<ServerView>(ns.name, 'mcpserver/pay-a');
      return condition(s, 'PoliciesResolved')?.status === 'False' ? s : undefined;
    });
    expect(condition(server, 'PoliciesResolved')?.message).toContain('payments-read');
    expect(condition(server, 'Degraded')?.status).toBe('True');
    await settle();
    const after = await configOf('pay-a');
    expect(policyRules(after.rules)).toEqual(policyRules(before.rules));
  });

  it('fixing the policy puts the new version in force', async () => {
    await applyManifest(ns.name, policyManifest('payments-read', { team: 'payments' }, ['search_*']));
    await eventually('pay-a has the fixed rule', async () =>
      policyRules((await configOf('pay-a')).rules)[0]?.tools?.includes('search_*') ? true : undefined,
    );
    const server = await eventually('PoliciesResolved again', async () => {
      const s = await getJson<ServerView>(ns.name, 'mcpserver/pay-a');
      return condition(s, 'PoliciesResolved')?.status === 'True' ? s : undefined;
    });
    expect(condition(server, 'Degraded')?.status).toBe('False');
  });

  it('relabelling a server moves it between policies', async () => {
    await kubectl(['-n', ns.name, 'label', 'mcpserver/web', 'team=payments', '--overwrite']);
    await eventually('web gets the payments rule', async () =>
      policyRules((await configOf('web')).rules).length > 0 ? true : undefined,
    );
    await eventually('policy lists web', async () => {
      const p = await getJson<{ status: { servers: string[] } }>(ns.name, 'mcppolicy/payments-read');
      return p.status.servers.includes('web') ? true : undefined;
    });
  });

  it('deleting a policy removes its rules from exactly its servers', async () => {
    await applyManifest(ns.name, policyManifest('other', { team: 'nobody' }, ['x']));
    await kubectl(['-n', ns.name, 'delete', 'mcppolicy/payments-read']);
    for (const s of ['pay-a', 'pay-b', 'web']) {
      await eventually(`${s} lost the rules`, async () =>
        policyRules((await configOf(s)).rules).length === 0 ? true : undefined,
      );
    }
    const server = await serverReady(ns.name, 'pay-a');
    expect(condition(server, 'PoliciesResolved')?.reason).toBe('NoPolicies');
  });
});
