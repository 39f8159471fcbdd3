import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningSidecar } from '../../../sidecar/src/server/sidecar.ts';
import { type EchoUpstream, startEchoUpstream } from '../../support/echo-upstream.ts';
import { KEYS, type Recorded } from '../../support/harness.ts';
import { createNamespace } from '../../support/kube.ts';
import {
  applyCrds,
  applyManifest,
  type InProcessOperator,
  serverReady,
  startOperator,
} from '../../support/operator.ts';
import { renderedConfig, startRenderedSidecar } from '../../support/rendered-sidecar.ts';

// DryRun, on a whole McpPolicy (spec.enforcement) or on one rule: applied on the real control plane,
// rendered into the sidecar's configuration, and enforced by a live sidecar with those rules. The
// calls it would deny still reach the server; the audit record and the metrics say what it would
// have done, and which rule.

const SERVER = 'tools';

let ns: Awaited<ReturnType<typeof createNamespace>>;
let op: InProcessOperator;
let upstream: EchoUpstream;
let sidecar: RunningSidecar;
let records: Recorded;

const manifest = (name: string, spec: object) =>
  JSON.stringify({ apiVersion: 'portcullis.dev/v1alpha1', kind: 'McpPolicy', metadata: { name }, spec });

beforeAll(async () => {
  await applyCrds();
  ns = await createNamespace('dry-run');
  op = await startOperator(ns.name);
  upstream = await startEchoUpstream();
  await applyManifest(
    ns.name,
    JSON.stringify({
      apiVersion: 'portcullis.dev/v1alpha1',
      kind: 'McpServer',
      metadata: { name: SERVER },
      spec: { hosted: { image: 'mcp/everything:latest', transport: 'streamable-http', port: 3001 } },
    }),
  );
  await applyManifest(
    ns.name,
    manifest('team', {
      servers: {},
      rules: [
        { name: 'engineers', action: 'allow', subjects: [{ group: 'engineering' }], tools: ['*'] },
        // One rule tried out inside an enforced policy.
        {
          name: 'no-gamma',
          action: 'deny',
          subjects: [{ anyAuthenticated: true }],
          tools: ['gamma'],
          enforcement: 'DryRun',
        },
      ],
    }),
  );
  // A whole policy tried out.
  await applyManifest(
    ns.name,
    manifest('trial', {
      servers: {},
      enforcement: 'DryRun',
      rules: [{ name: 'no-beta', action: 'deny', subjects: [{ anyAuthenticated: true }], tools: ['beta'] }],
    }),
  );
  await serverReady(ns.name, SERVER);
  const rendered = await renderedConfig(ns.name, SERVER, (c) =>
    c.authorization.rules.some((r) => r.policy === `${ns.name}/trial` && r.enforcement === 'DryRun'),
  );
  ({ sidecar, records } = await startRenderedSidecar(rendered, { upstreamUrl: upstream.url }));
});

afterAll(async () => {
  await sidecar?.close();
  await upstream?.close();
  await op?.stop();
  await ns?.remove();
});

async function callTool(tool: string): Promise<string> {
  const client = new Client({ name: 'dry-run', version: '1' });
  await client.connect(
    new StreamableHTTPClientTransport(new URL(sidecar.url), {
      requestInit: { headers: { 'x-api-key': KEYS.alice } },
    }),
  );
  try {
    const result = (await client.callTool({ name: tool, arguments: {} })) as { content: { text: string }[] };
    return result.content[0]?.text ?? '';
  } finally {
    await client.close();
  }
}

const lastCall = (tool: string) =>
  records.records.filter((r) => r.method === 'tools/call' && r.target?.tool === tool).at(-1);

describe('DryRun', () => {
  it.each([
    ['beta', 'trial', 'no-beta'],
    ['gamma', 'team', 'no-gamma'],
  ])(
    '%s: the call reaches the server; the audit says %s/%s would have denied it',
    async (tool, policy, rule) => {
      expect(await callTool(tool)).toBe(`called ${tool}`);
      expect(lastCall(tool)).toMatchObject({
        outcome: 'allowed',
        decision: {
          effect: 'allow',
          rule: 'engineers',
          dryRun: { outcome: 'wouldDeny', policy: `${ns.name}/${policy}`, rule },
        },
      });
    },
  );

  it('counts what it would have denied, by rule, in the metrics', async () => {
    const text = await (await fetch(`${sidecar.adminUrl}/metrics`)).text();
    for (const rule of [`${ns.name}/trial/no-beta`, `${ns.name}/team/no-gamma`]) {
      expect(text).toMatch(
        new RegExp(
          `^portcullis_sidecar_dry_run_decisions_total\\{[^}]*outcome="wouldDeny",rule="${rule}"\\} [1-9]`,
          'm',
        ),
      );
    }
  });

  it('a call no DryRun rule concerns carries no dry-run outcome', async () => {
    expect(await callTool('alpha')).toBe('called alpha');
    expect(lastCall('alpha')?.decision?.dryRun).toBeUndefined();
  });
});
