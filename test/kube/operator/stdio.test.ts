import type { V1ConfigMap, V1Container, V1Deployment } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createNamespace, kubectl } from '../../support/kube.ts';
import {
  applyCrds,
  applyManifest,
  condition,
  getJson,
  type InProcessOperator,
  type ServerView,
  SIDECAR_IMAGE,
  serverReady,
  startOperator,
} from './harness.ts';

// stdio McpServers on the real control plane: the examples in examples/stdio/ are admitted and
// reconciled into a Deployment whose MCP container runs the Portcullis launcher (copied in by an
// init container from the sidecar image), shares only the launcher's socket with the sidecar, and
// has no port and no token; the CEL rules refuse a stdio server without a command.

const EXAMPLES = new URL('../../../examples/stdio/', import.meta.url).pathname;

let ns: { name: string; remove: () => Promise<void> };
let op: InProcessOperator;

beforeAll(async () => {
  await applyCrds();
  ns = await createNamespace('op-stdio');
  op = await startOperator(ns.name);
});

afterAll(async () => {
  await op?.stop();
  await ns?.remove();
});

const byName = (cs: V1Container[] | undefined, name: string) =>
  cs?.find((c) => c.name === name) as V1Container;

describe('stdio McpServers', () => {
  it('renders the stdio examples: launcher init container, entrypoint, socket volume, no port, no token', async () => {
    await kubectl(['-n', ns.name, 'apply', '-f', EXAMPLES]);
    for (const name of ['everything-stdio', 'prefect']) {
      const server = await serverReady(ns.name, name);
      expect(server.status?.url).toBe(`http://${name}.${ns.name}.svc.cluster.local/mcp`);
      const dep = await getJson<V1Deployment>(ns.name, `deployment/${name}`);
      const pod = dep.spec?.template.spec;
      expect(pod?.automountServiceAccountToken).toBe(false);
      const init = byName(pod?.initContainers, 'portcullis-launcher');
      expect(init.image).toBe(SIDECAR_IMAGE);
      expect(init.command).toEqual(['/opt/portcullis/launcher', 'install', '/portcullis/bin/launcher']);
      const mcp = byName(pod?.containers, 'mcp-server');
      const sidecar = byName(pod?.containers, 'portcullis-sidecar');
      expect(mcp.command?.[0]).toBe('/portcullis/bin/launcher');
      expect(mcp.ports).toBeUndefined();
      for (const c of [init, mcp, sidecar]) {
        expect(c.securityContext, c.name).toMatchObject({
          runAsNonRoot: true,
          readOnlyRootFilesystem: true,
          allowPrivilegeEscalation: false,
          capabilities: { drop: ['ALL'] },
        });
      }
      const mounts = (c: V1Container) => (c.volumeMounts ?? []).map((m) => m.name).sort();
      expect(mounts(mcp)).toEqual(['portcullis-launcher', 'portcullis-sessions', 'portcullis-socket', 'tmp']);
      expect(mounts(sidecar)).toContain('portcullis-socket');
      expect(mounts(sidecar)).not.toContain('portcullis-sessions');
      expect(pod?.securityContext?.fsGroup).toBeDefined();
      const cm = await getJson<V1ConfigMap>(ns.name, `configmap/${name}`);
      const config = JSON.parse(cm.data?.['sidecar.json'] ?? '{}');
      expect(config.upstream).toMatchObject({
        transport: 'stdio',
        launcher: { socket: '/run/portcullis/launcher.sock' },
      });
      expect(config.upstream.command).toBeUndefined();
    }
    // Prefect's API URL comes from a ConfigMap, into the MCP container only.
    const prefect = await getJson<V1Deployment>(ns.name, 'deployment/prefect');
    const mcp = byName(prefect.spec?.template.spec?.containers, 'mcp-server');
    expect(mcp.envFrom).toEqual([{ configMapRef: { name: 'prefect-api' } }]);
    expect(mcp.command?.slice(mcp.command.indexOf('--'))[1]).toBe('uvx');
  });

  it('renders the limits from spec.hosted.stdio into the sidecar configuration and the launcher flags', async () => {
    const dep = await getJson<V1Deployment>(ns.name, 'deployment/everything-stdio');
    const mcp = byName(dep.spec?.template.spec?.containers, 'mcp-server');
    expect(mcp.command).toEqual(expect.arrayContaining(['-max-processes', '32']));
    const cm = await getJson<V1ConfigMap>(ns.name, 'configmap/everything-stdio');
    expect(JSON.parse(cm.data?.['sidecar.json'] ?? '{}').upstream.processes).toEqual({
      maxProcesses: 32,
      warm: 2,
      idleTimeoutMs: 300_000,
      stopGraceMs: 5_000,
    });
  });

  it('refuses a stdio server without a command at admission, with the reason', async () => {
    const manifest = JSON.stringify({
      apiVersion: 'portcullis.dev/v1alpha1',
      kind: 'McpServer',
      metadata: { name: 'no-command' },
      spec: { hosted: { image: 'python:3.12-slim', transport: 'stdio' } },
    });
    await expect(applyManifest(ns.name, manifest)).rejects.toThrow(
      /command is required for the stdio transport/,
    );
    const view = await getJson<ServerView>(ns.name, 'mcpserver/everything-stdio');
    expect(condition(view, 'Ready')?.status).toBe('True');
  });
});
