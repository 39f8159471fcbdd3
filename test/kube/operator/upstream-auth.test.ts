import type { V1ConfigMap, V1Container, V1Deployment } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createNamespace, kubectl } from '../../support/kube.ts';
import {
  applyCrds,
  applyManifest,
  getJson,
  type InProcessOperator,
  serverReady,
  startOperator,
} from './harness.ts';

// spec.upstreamAuth on the real control plane: admitted and reconciled into the sidecar's
// upstream.auth and a projected Secret volume in the sidecar container only; the CEL rules refuse
// two modes at once and a stdio server with upstream credentials.

let ns: { name: string; remove: () => Promise<void> };
let op: InProcessOperator;

beforeAll(async () => {
  await applyCrds();
  ns = await createNamespace('op-upstream-auth');
  op = await startOperator(ns.name);
});

afterAll(async () => {
  await op?.stop();
  await ns?.remove();
});

const manifest = (name: string, spec: object) =>
  JSON.stringify({ apiVersion: 'portcullis.dev/v1alpha1', kind: 'McpServer', metadata: { name }, spec });
const hosted = { image: 'prefecthq/prefect-mcp:0.0.1b13', transport: 'streamable-http', port: 8000 };

const EXAMPLES = new URL('../../../examples/upstream-auth/', import.meta.url).pathname;

describe('spec.upstreamAuth', () => {
  it('the Prefect example is admitted and reconciled, its key Secret in the sidecar only', async () => {
    await kubectl(['-n', ns.name, 'apply', '-f', EXAMPLES]);
    await serverReady(ns.name, 'prefect-http');
    const pod = (await getJson<V1Deployment>(ns.name, 'deployment/prefect-http')).spec?.template.spec;
    expect(pod?.volumes?.find((v) => v.name === 'portcullis-upstream-auth')?.projected?.sources).toEqual([
      { secret: { name: 'prefect-keys', items: [{ key: 'credentials.yaml', path: '0' }] } },
    ]);
  });

  it('perPrincipal: the mapping reaches the sidecar as a file, the Secret key mounted in the sidecar only', async () => {
    await applyManifest(
      ns.name,
      manifest('per-principal', {
        hosted,
        upstreamAuth: { perPrincipal: { secretKeyRef: { name: 'prefect-keys', key: 'credentials.yaml' } } },
      }),
    );
    await serverReady(ns.name, 'per-principal');
    const cm = await getJson<V1ConfigMap>(ns.name, 'configmap/per-principal');
    expect(JSON.parse(cm.data?.['sidecar.json'] ?? '{}').upstream.auth).toEqual({
      mode: 'perPrincipal',
      file: '/etc/portcullis/upstream-auth/0',
    });
    const pod = (await getJson<V1Deployment>(ns.name, 'deployment/per-principal')).spec?.template.spec;
    expect(pod?.volumes?.find((v) => v.name === 'portcullis-upstream-auth')?.projected?.sources).toEqual([
      { secret: { name: 'prefect-keys', items: [{ key: 'credentials.yaml', path: '0' }] } },
    ]);
    const mounts = (name: string) =>
      ((pod?.containers ?? []).find((c) => c.name === name) as V1Container).volumeMounts?.map((m) => m.name);
    expect(mounts('portcullis-sidecar')).toContain('portcullis-upstream-auth');
    expect(mounts('mcp-server')).not.toContain('portcullis-upstream-auth');
  });

  it.each([
    [
      'two modes at once',
      {
        hosted,
        upstreamAuth: {
          perPrincipal: { secretKeyRef: { name: 'a', key: 'b' } },
          clientCredentials: { tokenEndpoint: 'https://idp.example.com/token', clientId: 'c' },
        },
      },
      /exactly one of headers, perPrincipal, tokenExchange, clientCredentials/,
    ],
    [
      'a stdio server',
      {
        hosted: { image: 'python:3.12-slim', transport: 'stdio', command: ['uvx', 'prefect-mcp'] },
        upstreamAuth: { perPrincipal: { secretKeyRef: { name: 'a', key: 'b' } } },
      },
      /stdio server takes no credential headers/,
    ],
    [
      'a token endpoint without TLS',
      {
        hosted,
        upstreamAuth: { clientCredentials: { tokenEndpoint: 'http://idp.example.com/token', clientId: 'c' } },
      },
      /tokenEndpoint/,
    ],
  ])('refuses %s at admission', async (_name, spec, message) => {
    await expect(applyManifest(ns.name, manifest('refused', spec))).rejects.toThrow(message);
  });
});
