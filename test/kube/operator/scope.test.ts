import pino from 'pino';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { parseOptions } from '../../../operator/src/manager/options.ts';
import { runOperator } from '../../../operator/src/manager/run.ts';
import { createNamespace } from '../../support/kube.ts';
import { applyCrds, applyManifest, exists, hostedServer, SIDECAR_IMAGE, serverReady } from './harness.ts';

// Namespace-scoped mode with a list of namespaces: one informer per namespace, servers in each are
// reconciled, servers elsewhere are not touched.

type Ns = { name: string; remove: () => Promise<void> };
let watched: Ns[] = [];
let outside: Ns;
let stop: (() => Promise<void>) | undefined;

beforeAll(async () => {
  await applyCrds();
  watched = [await createNamespace('op-scope-a'), await createNamespace('op-scope-b')];
  outside = await createNamespace('op-scope-out');
  const options = parseOptions(
    [
      '--kubeconfig',
      inject('kubeconfig'),
      '--namespaces',
      watched.map((n) => n.name).join(','),
      '--lease-namespace',
      watched[0]?.name ?? '',
      '--health-addr',
      '127.0.0.1:0',
      '--sidecar-image',
      SIDECAR_IMAGE,
    ],
    {},
  );
  const running = await runOperator(options, { log: pino({ level: 'silent' }) });
  stop = running.stop;
});

afterAll(async () => {
  await stop?.();
  await Promise.all([...watched, outside].filter(Boolean).map((n) => n.remove()));
});

describe('namespace-scoped mode', () => {
  it('reconciles servers in every listed namespace and leaves the others alone', async () => {
    for (const ns of [...watched, outside]) await applyManifest(ns.name, hostedServer('scoped'));
    for (const ns of watched) {
      const server = await serverReady(ns.name, 'scoped');
      expect(server.status?.url).toBe(`http://scoped.${ns.name}.svc.cluster.local/mcp`);
    }
    expect(await exists(outside.name, 'deployment/scoped')).toBe(false);
    expect(await exists(outside.name, 'configmap/scoped')).toBe(false);
  });
});
