import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { McpError } from '@modelcontextprotocol/sdk/types.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningSidecar } from '../../../sidecar/src/server/sidecar.ts';
import { type EchoUpstream, startEchoUpstream } from '../../support/echo-upstream.ts';
import { KEYS, type Recorded } from '../../support/harness.ts';
import { createNamespace, eventually, kubectl, kubectlJson } from '../../support/kube.ts';
import { renderedConfig, startRenderedSidecar } from '../../support/rendered-sidecar.ts';
import {
  applyCrds,
  applyManifest,
  condition,
  type InProcessOperator,
  serverReady,
  startOperator,
} from './harness.ts';

// A ClusterMcpPolicy selected by namespace and server labels is folded into the server's sidecar
// configuration ahead of its McpPolicies: its deny beats the namespace's allow in the sidecar's own
// decision (a live sidecar enforcing the rendered rules), and it is the deciding rule that callers
// and the audit see. Selection follows the namespace's labels.

const SERVER = 'tools';

let ns: Awaited<ReturnType<typeof createNamespace>>;
let op: InProcessOperator;
let upstream: EchoUpstream;
let guard: string;

const policyRef = () => `ClusterMcpPolicy ${guard}`;

beforeAll(async () => {
  await applyCrds();
  ns = await createNamespace('cluster-policy');
  guard = `guard-${ns.name}`;
  // Only this test's namespace carries the label the cluster policy selects.
  await kubectl(['label', 'namespace', ns.name, `guarded=${ns.name}`]);
  op = await startOperator(ns.name);
  upstream = await startEchoUpstream();
  await applyManifest(
    ns.name,
    JSON.stringify({
      apiVersion: 'portcullis.dev/v1alpha1',
      kind: 'McpServer',
      metadata: { name: SERVER, labels: { tier: 'sensitive' } },
      spec: { hosted: { image: 'mcp/everything:latest', transport: 'streamable-http', port: 3001 } },
    }),
  );
  await applyManifest(
    ns.name,
    JSON.stringify({
      apiVersion: 'portcullis.dev/v1alpha1',
      kind: 'McpPolicy',
      metadata: { name: 'team-allows-all' },
      spec: {
        servers: {},
        rules: [{ name: 'everything', action: 'allow', subjects: [{ group: 'engineering' }], tools: ['*'] }],
      },
    }),
  );
  await kubectl(
    ['apply', '-f', '-'],
    JSON.stringify({
      apiVersion: 'portcullis.dev/v1alpha1',
      kind: 'ClusterMcpPolicy',
      metadata: { name: guard },
      spec: {
        namespaceSelector: { matchLabels: { guarded: ns.name } },
        servers: { matchExpressions: [{ key: 'tier', operator: 'In', values: ['sensitive'] }] },
        rules: [{ name: 'no-beta', action: 'deny', subjects: [{ anyAuthenticated: true }], tools: ['beta'] }],
      },
    }),
  );
  await serverReady(ns.name, SERVER);
});

afterAll(async () => {
  await kubectl(['delete', 'clustermcppolicy', guard, '--ignore-not-found']).catch(() => undefined);
  await upstream?.close();
  await op?.stop();
  await ns?.remove();
});

async function call(sidecar: RunningSidecar, tool: string): Promise<{ ok: boolean; rule?: unknown }> {
  const client = new Client({ name: 'cluster-policy', version: '1' });
  await client.connect(
    new StreamableHTTPClientTransport(new URL(sidecar.url), {
      requestInit: { headers: { 'x-api-key': KEYS.alice } },
    }),
  );
  try {
    await client.callTool({ name: tool, arguments: {} });
    return { ok: true };
  } catch (err) {
    if (!(err instanceof McpError)) throw err;
    return { ok: false, rule: (err.data as { rule?: unknown } | undefined)?.rule };
  } finally {
    await client.close();
  }
}

describe('ClusterMcpPolicy', () => {
  let sidecar: RunningSidecar;
  let records: Recorded;

  beforeAll(async () => {
    const rendered = await renderedConfig(ns.name, SERVER, (c) =>
      c.authorization.rules.some((r) => r.policy === policyRef()),
    );
    ({ sidecar, records } = await startRenderedSidecar(rendered, { upstreamUrl: upstream.url }));
  });
  afterAll(async () => {
    await sidecar?.close();
  });

  it('a cluster deny beats the namespace allow in the sidecar, and is the deciding rule', async () => {
    // alice (engineering) is allowed every tool by the namespace's policy...
    expect(await call(sidecar, 'alpha')).toEqual({ ok: true });
    // ...but not the one the cluster guardrail denies.
    expect(await call(sidecar, 'beta')).toEqual({ ok: false, rule: 'no-beta' });
    const denied = records.records.filter((r) => r.method === 'tools/call' && r.outcome === 'denied');
    expect(denied.at(-1)?.decision).toMatchObject({ effect: 'deny', policy: policyRef(), rule: 'no-beta' });
  });

  it('reports itself accepted, with the servers it selects, and the server lists it', async () => {
    const policy = await eventually('cluster policy status', async () => {
      const p = await kubectlJson<{ status?: { servers?: string[]; conditions?: never[] } }>([
        'get',
        'clustermcppolicy',
        guard,
      ]);
      return p.status?.servers?.includes(`${ns.name}/${SERVER}`) ? p : undefined;
    });
    expect(condition(policy as never, 'Accepted')?.status).toBe('True');
    const server = await kubectlJson<{ status?: { policies?: string[] } }>([
      '-n',
      ns.name,
      'get',
      `mcpserver/${SERVER}`,
    ]);
    expect(server.status?.policies).toEqual(
      expect.arrayContaining([`ClusterMcpPolicy/${guard}`, 'team-allows-all']),
    );
  });

  it("follows the namespace's labels: unlabelled, the guardrail leaves the server's rules", async () => {
    await kubectl(['label', 'namespace', ns.name, 'guarded-']);
    await renderedConfig(
      ns.name,
      SERVER,
      (c) => !c.authorization.rules.some((r) => r.policy === policyRef()),
    );
    await kubectl(['label', 'namespace', ns.name, `guarded=${ns.name}`]);
    await renderedConfig(ns.name, SERVER, (c) => c.authorization.rules.some((r) => r.policy === policyRef()));
  });
});
