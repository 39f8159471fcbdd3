import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createNamespace, eventually, kubectl } from '../../support/kube.ts';
import { CHART, canI, helm, uniqueName } from './chart.ts';

// The chart's aggregated ClusterRoles add McpServer and McpPolicy rights to the built-in view, edit
// and admin roles, so a namespace owner's existing RoleBinding covers them; status stays the
// operator's. Checked with `kubectl auth can-i --as` against the real RBAC authorizer.

const RESOURCES = ['mcpservers.portcullis.dev', 'mcppolicies.portcullis.dev'];

const GRANTS = {
  view: { yes: ['get', 'list', 'watch'], no: ['create', 'update', 'patch', 'delete', 'deletecollection'] },
  edit: {
    yes: ['get', 'list', 'watch', 'create', 'update', 'patch', 'delete', 'deletecollection'],
    no: [],
  },
  admin: {
    yes: ['get', 'list', 'watch', 'create', 'update', 'patch', 'delete', 'deletecollection'],
    no: [],
  },
} as const;

describe('aggregated roles for McpServer and McpPolicy', () => {
  const release = uniqueName('pc-agg');
  let releaseNs: Awaited<ReturnType<typeof createNamespace>>;
  let team: Awaited<ReturnType<typeof createNamespace>>;
  let elsewhere: Awaited<ReturnType<typeof createNamespace>>;

  beforeAll(async () => {
    releaseNs = await createNamespace('chart-agg');
    team = await createNamespace('chart-agg-team');
    elsewhere = await createNamespace('chart-agg-else');
    // --force-conflicts: other test files apply the same CRDs with kubectl (see install.test.ts).
    await helm([
      'install',
      release,
      CHART,
      '--namespace',
      releaseNs.name,
      '--skip-crds=false',
      '--force-conflicts',
    ]);
    for (const role of Object.keys(GRANTS)) {
      await kubectl([
        'create',
        'rolebinding',
        `${role}-binding`,
        `--clusterrole=${role}`,
        `--user=${role}-user`,
        '-n',
        team.name,
      ]);
    }
    // The aggregation controller fills the built-in roles asynchronously.
    await eventually('aggregated rules in view, edit and admin', async () => {
      for (const role of Object.keys(GRANTS)) {
        if (!(await canI({ user: `${role}-user` }, 'get', RESOURCES[1] ?? '', team.name))) return undefined;
      }
      for (const role of ['edit', 'admin']) {
        if (!(await canI({ user: `${role}-user` }, 'create', RESOURCES[1] ?? '', team.name)))
          return undefined;
      }
      return true;
    });
  });
  afterAll(async () => {
    await helm(['uninstall', release, '--namespace', releaseNs.name]).catch(() => undefined);
    for (const ns of [releaseNs, team, elsewhere]) await ns?.remove();
  });

  const cases = Object.entries(GRANTS).flatMap(([role, g]) =>
    RESOURCES.flatMap((resource) => [
      ...g.yes.map((verb) => ({ role, verb, resource, allowed: true })),
      ...g.no.map((verb) => ({ role, verb, resource, allowed: false })),
      // Status is written by the operator alone.
      ...['update', 'patch'].map((verb) => ({ role, verb, resource: `${resource}/status`, allowed: false })),
    ]),
  );

  it.each(cases)('$role: $verb $resource -> $allowed', async ({ role, verb, resource, allowed }) => {
    expect(await canI({ user: `${role}-user` }, verb, resource, team.name)).toBe(allowed);
  });

  it('grants nothing outside the namespace of the binding', async () => {
    for (const role of Object.keys(GRANTS)) {
      expect(await canI({ user: `${role}-user` }, 'get', 'mcpservers.portcullis.dev', elsewhere.name)).toBe(
        false,
      );
    }
  });

  describe('ClusterMcpPolicy: guardrails a namespace cannot remove', () => {
    const CLUSTER = 'clustermcppolicies.portcullis.dev';
    const WRITE = ['create', 'update', 'patch', 'delete', 'deletecollection'];
    const guard = uniqueName('guard');

    beforeAll(async () => {
      // The strongest namespace roles, granted cluster-wide too: still no write on cluster policies.
      for (const role of ['edit', 'admin']) {
        await kubectl([
          'create',
          'clusterrolebinding',
          `${release}-${role}-everywhere`,
          `--clusterrole=${role}`,
          `--user=${role}-everywhere-user`,
        ]);
      }
      await kubectl([
        'create',
        'clusterrolebinding',
        `${release}-policy-admin`,
        `--clusterrole=${release}-portcullis-cluster-policy-admin`,
        '--user=guardrail-owner',
      ]);
      await kubectl(
        ['apply', '-f', '-'],
        JSON.stringify({
          apiVersion: 'portcullis.dev/v1alpha1',
          kind: 'ClusterMcpPolicy',
          metadata: { name: guard },
          spec: {
            servers: {},
            rules: [
              { name: 'no-exec', action: 'deny', subjects: [{ anyAuthenticated: true }], tools: ['exec'] },
            ],
          },
        }),
      );
    });
    afterAll(async () => {
      for (const name of [
        `${release}-edit-everywhere`,
        `${release}-admin-everywhere`,
        `${release}-policy-admin`,
      ])
        await kubectl(['delete', 'clusterrolebinding', name, '--ignore-not-found']);
      await kubectl(['delete', 'clustermcppolicy', guard, '--ignore-not-found']);
    });

    const users = ['edit-user', 'admin-user', 'edit-everywhere-user', 'admin-everywhere-user'];
    it.each(users.flatMap((user) => WRITE.map((verb) => ({ user, verb }))))(
      '$user may not $verb clustermcppolicies (SubjectAccessReview)',
      async ({ user, verb }) => {
        expect(await canI({ user }, verb, CLUSTER, '')).toBe(false);
        // Asked inside the namespace where the user is an editor, the answer is the same.
        expect(await canI({ user }, verb, CLUSTER, team.name)).toBe(false);
      },
    );

    it.each(users)('%s: a real delete, impersonated, is refused by the API server', async (user) => {
      const attempt = kubectl(['delete', 'clustermcppolicy', guard, `--as=${user}`]);
      await expect(attempt).rejects.toMatchObject({ stderr: expect.stringMatching(/forbidden/i) });
      expect((await kubectl(['get', 'clustermcppolicy', guard, '-o', 'name'])).trim()).toBe(
        `clustermcppolicy.portcullis.dev/${guard}`,
      );
    });

    it('the dedicated ClusterRole may write them, but not their status', async () => {
      for (const verb of WRITE) expect(await canI({ user: 'guardrail-owner' }, verb, CLUSTER, '')).toBe(true);
      expect(await canI({ user: 'guardrail-owner' }, 'patch', `${CLUSTER}/status`, '')).toBe(false);
      await kubectl(['label', 'clustermcppolicy', guard, 'reviewed=yes', '--as=guardrail-owner']);
    });
  });

  it('lets view read status but not the operator-only verbs of edit', async () => {
    expect(await canI({ user: 'view-user' }, 'get', 'mcpservers.portcullis.dev/status', team.name)).toBe(
      true,
    );
    expect(await canI({ user: 'edit-user' }, 'get', 'mcppolicies.portcullis.dev/status', team.name)).toBe(
      true,
    );
  });
});
