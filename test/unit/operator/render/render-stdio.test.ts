import type { V1Container, V1PodSpec } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import type { HostedSource } from '../../../../operator/src/api/hosted-source.ts';
import { MCP_CONTAINER, SIDECAR_CONTAINER } from '../../../../operator/src/render/layout.ts';
import { renderServer } from '../../../../operator/src/render/render-server.ts';
import {
  LAUNCHER,
  LAUNCHER_CONTAINER,
  LAUNCHER_IN_SIDECAR_IMAGE,
  LAUNCHER_SOCKET,
} from '../../../../operator/src/render/stdio.ts';
import { validateConfig } from '../../../../sidecar/src/config/load.ts';
import { defaults, server } from '../api/builders.ts';

// A stdio McpServer rendered: the launcher copied in by an init container and made the MCP
// container's entrypoint, the socket volume shared with the sidecar, the limits in the sidecar's
// configuration, and nothing that gives the MCP container a port or a token.

function render(hosted: Partial<HostedSource> = {}) {
  const r = renderServer({
    server: server({
      hosted: {
        transport: 'stdio',
        port: undefined,
        command: ['uvx', 'prefect-mcp'],
        args: ['--quiet'],
        ...hosted,
      },
    }),
    policies: [],
    defaults: defaults(),
  });
  if (!r.ok) throw r.error;
  const spec = r.children.deployment.spec?.template.spec as V1PodSpec;
  const byName = (name: string) =>
    [...spec.containers, ...(spec.initContainers ?? [])].find((c) => c.name === name) as V1Container;
  return {
    r,
    spec,
    mcp: byName(MCP_CONTAINER),
    sidecar: byName(SIDECAR_CONTAINER),
    init: byName(LAUNCHER_CONTAINER),
  };
}

const mounts = (c: V1Container) => Object.fromEntries((c.volumeMounts ?? []).map((m) => [m.name, m]));

describe('a stdio McpServer', () => {
  it('copies the launcher from the sidecar image and makes it the entrypoint of the server command', () => {
    const { mcp, init, spec } = render();
    expect(init.image).toBe(defaults().sidecar.image);
    expect(init.command).toEqual([LAUNCHER_IN_SIDECAR_IMAGE, 'install', LAUNCHER]);
    expect(mcp.command?.[0]).toBe(LAUNCHER);
    expect(mcp.command?.slice(mcp.command.indexOf('--'))).toEqual(['--', 'uvx', 'prefect-mcp', '--quiet']);
    expect(mcp.args).toBeUndefined();
    // The launcher's folder is read-only where the server runs.
    const bin = mounts(init)['portcullis-launcher'];
    expect(bin?.readOnly).toBeUndefined();
    expect(mounts(mcp)['portcullis-launcher']).toMatchObject({ mountPath: bin?.mountPath, readOnly: true });
    expect(spec.volumes?.find((v) => v.name === 'portcullis-launcher')?.emptyDir).toBeDefined();
  });

  it('shares only the socket volume with the sidecar; the session directories stay in the MCP container', () => {
    const { mcp, sidecar, spec } = render();
    expect(mounts(sidecar)['portcullis-socket']?.mountPath).toBe('/run/portcullis');
    expect(mounts(mcp)['portcullis-socket']?.mountPath).toBe('/run/portcullis');
    expect(mounts(mcp)['portcullis-sessions']).toBeDefined();
    expect(mounts(sidecar)['portcullis-sessions']).toBeUndefined();
    expect(mcp.command).toEqual(expect.arrayContaining(['-socket', LAUNCHER_SOCKET]));
    // Both containers hold the pod's fsGroup, which owns the socket.
    expect(spec.securityContext?.fsGroup).toBe(defaults().sidecar.runAsUser);
  });

  it('gives the MCP container no port, no probe on a port and no token', () => {
    const { mcp, spec } = render();
    expect(mcp.ports).toBeUndefined();
    expect(mcp.readinessProbe).toBeUndefined();
    expect(spec.automountServiceAccountToken).toBe(false);
    expect(Object.keys(mounts(mcp)).sort()).toEqual([
      'portcullis-launcher',
      'portcullis-sessions',
      'portcullis-socket',
      'tmp',
    ]);
  });

  it('renders the limits into a sidecar configuration the sidecar accepts', () => {
    const { r, mcp } = render({
      stdio: { maxProcesses: 4, warm: 2, idleTimeoutSeconds: 30, stopGraceSeconds: 3 },
    });
    expect(r.config.upstream).toMatchObject({
      transport: 'stdio',
      launcher: { socket: LAUNCHER_SOCKET },
      processes: { maxProcesses: 4, warm: 2, idleTimeoutMs: 30_000, stopGraceMs: 3_000 },
    });
    expect(r.config.upstream.command).toBeUndefined();
    expect(r.config.listen.path).toBe('/mcp');
    expect(r.url.endsWith('/mcp')).toBe(true);
    expect(mcp.command).toEqual(expect.arrayContaining(['-max-processes', '4', '-grace', '3s']));
    expect(validateConfig(JSON.parse(JSON.stringify(r.config))).ok).toBe(true);
  });

  it('uses the default limits when spec.hosted.stdio is absent', () => {
    expect(render().r.config.upstream.processes).toEqual({
      maxProcesses: 16,
      warm: 0,
      idleTimeoutMs: 600_000,
      stopGraceMs: 5_000,
    });
  });

  it('keeps a caller on one pod (ClientIP affinity for as long as a session may idle); HTTP servers have none', () => {
    const { r } = render({
      replicas: 3,
      stdio: { maxProcesses: 4, warm: 0, idleTimeoutSeconds: 900, stopGraceSeconds: 5 },
    });
    expect(r.children.service.spec).toMatchObject({
      sessionAffinity: 'ClientIP',
      sessionAffinityConfig: { clientIP: { timeoutSeconds: 900 } },
    });
    const http = renderServer({ server: server(), policies: [], defaults: defaults() });
    if (!http.ok) throw http.error;
    expect(http.children.service.spec?.sessionAffinity).toBeUndefined();
  });
});
