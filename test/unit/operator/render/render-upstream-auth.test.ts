import type { V1Container, V1PodSpec } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import type { UpstreamAuthSpec } from '../../../../operator/src/api/upstream-auth.ts';
import { MCP_CONTAINER, SIDECAR_CONTAINER } from '../../../../operator/src/render/layout.ts';
import { renderServer } from '../../../../operator/src/render/render-server.ts';
import { UPSTREAM_AUTH_DIR, UPSTREAM_AUTH_VOLUME } from '../../../../operator/src/render/upstream-auth.ts';
import { validateConfig } from '../../../../sidecar/src/config/load.ts';
import { defaults, server } from '../api/builders.ts';

// spec.upstreamAuth rendered: the sidecar's upstream.auth naming files, and exactly the referenced
// Secret keys projected into the sidecar container only, read-only.

function render(upstreamAuth: UpstreamAuthSpec) {
  const r = renderServer({ server: server({ spec: { upstreamAuth } }), policies: [], defaults: defaults() });
  if (!r.ok) throw r.error;
  const spec = r.children.deployment.spec?.template.spec as V1PodSpec;
  const container = (name: string) => spec.containers.find((c) => c.name === name) as V1Container;
  return { r, spec, sidecar: container(SIDECAR_CONTAINER), mcp: container(MCP_CONTAINER) };
}

describe('spec.upstreamAuth', () => {
  it('perPrincipal: the mapping Secret key mounted in the sidecar only; the config names its file', () => {
    const { r, spec, sidecar, mcp } = render({
      perPrincipal: { secretKeyRef: { name: 'prefect-keys', key: 'map.yaml' } },
    });
    expect(r.config.upstream.auth).toEqual({ mode: 'perPrincipal', file: `${UPSTREAM_AUTH_DIR}/0` });
    expect(spec.volumes?.find((v) => v.name === UPSTREAM_AUTH_VOLUME)).toEqual({
      name: UPSTREAM_AUTH_VOLUME,
      projected: { sources: [{ secret: { name: 'prefect-keys', items: [{ key: 'map.yaml', path: '0' }] } }] },
    });
    expect(sidecar.volumeMounts).toContainEqual({
      name: UPSTREAM_AUTH_VOLUME,
      mountPath: UPSTREAM_AUTH_DIR,
      readOnly: true,
    });
    expect(mcp.volumeMounts?.some((m) => m.name === UPSTREAM_AUTH_VOLUME) ?? false).toBe(false);
    expect(validateConfig(r.config).ok).toBe(true);
  });

  it('tokenExchange: the client secret as a file, a valid sidecar configuration', () => {
    const { r, spec } = render({
      tokenExchange: {
        tokenEndpoint: 'https://idp.example.com/token',
        clientId: 'gw',
        clientSecretRef: { name: 'gw', key: 'secret' },
        audience: 'https://vendor.example.com/mcp',
      },
    });
    expect(r.config.upstream.auth).toMatchObject({
      mode: 'tokenExchange',
      clientId: 'gw',
      clientSecretFile: `${UPSTREAM_AUTH_DIR}/0`,
      audience: 'https://vendor.example.com/mcp',
    });
    expect(spec.volumes?.find((v) => v.name === UPSTREAM_AUTH_VOLUME)?.projected?.sources).toHaveLength(1);
    const result = validateConfig(r.config);
    expect(result.ok ? [] : result.issues).toEqual([]);
  });

  it('headers: one file per referenced key, keys of two Secrets never collide', () => {
    const { r, spec } = render({
      headers: {
        id: 'vendor',
        headers: [
          { name: 'X-Key', secretKeyRef: { name: 'a', key: 'token' } },
          { name: 'X-Other', secretKeyRef: { name: 'b', key: 'token' } },
        ],
      },
    });
    expect(r.config.upstream.auth).toEqual({
      mode: 'headers',
      id: 'vendor',
      headers: [
        { name: 'X-Key', file: `${UPSTREAM_AUTH_DIR}/0` },
        { name: 'X-Other', file: `${UPSTREAM_AUTH_DIR}/1` },
      ],
    });
    expect(spec.volumes?.find((v) => v.name === UPSTREAM_AUTH_VOLUME)?.projected?.sources).toEqual([
      { secret: { name: 'a', items: [{ key: 'token', path: '0' }] } },
      { secret: { name: 'b', items: [{ key: 'token', path: '1' }] } },
    ]);
  });

  it('none: no volume, no auth section', () => {
    const r = renderServer({ server: server(), policies: [], defaults: defaults() });
    if (!r.ok) throw r.error;
    expect(r.config.upstream.auth).toBeUndefined();
    expect(
      r.children.deployment.spec?.template.spec?.volumes?.some((v) => v.name === UPSTREAM_AUTH_VOLUME),
    ).toBe(false);
  });
});
