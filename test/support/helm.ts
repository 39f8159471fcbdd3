import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inject } from 'vitest';
import { stringify } from 'yaml';
import { runKubectl } from '../cluster/control-plane.ts';
import { KubectlError, kubectl } from './kube.ts';

// Helm against the test control plane: the chart's path, helm runs with the test kubeconfig, values
// files written to a temp folder, install and template, and `kubectl auth can-i` as a boolean.

export const CHART = new URL('../../charts/portcullis', import.meta.url).pathname;

export function helm(args: string[]): Promise<string> {
  return runKubectl(inject('helm'), inject('kubeconfig'), args);
}

export async function valuesFile(values: Record<string, unknown>): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'portcullis-chart-'));
  const file = join(dir, 'values.yaml');
  await writeFile(file, stringify(values));
  return file;
}

/**
 * `helm install` of the chart as `release` into `namespace`, CRDs included; resolves to its uninstall.
 * Other test files on this shared cluster apply the same CRDs with kubectl, and helm's server-side
 * apply of CRDs conflicts with that field manager even for identical content: it takes them over.
 */
export async function helmInstall(
  release: string,
  namespace: string,
  values: Record<string, unknown> = {},
  opts: { wait?: boolean } = {},
): Promise<() => Promise<void>> {
  const wait = opts.wait ? ['--wait'] : [];
  const file = await valuesFile(values);
  const timeout = opts.wait ? ['--timeout', '180s'] : [];
  await helm([
    'install',
    release,
    CHART,
    '--namespace',
    namespace,
    '-f',
    file,
    ...wait,
    ...timeout,
    '--force-conflicts',
  ]);
  return async () =>
    void (await helm(['uninstall', release, '--namespace', namespace, ...wait]).catch(() => ''));
}

/** `helm template` of the chart with these values, CRDs included. */
export async function template(release: string, namespace: string, values: Record<string, unknown>) {
  return helm([
    'template',
    release,
    CHART,
    '--namespace',
    namespace,
    '--include-crds',
    '-f',
    await valuesFile(values),
  ]);
}

/** `kubectl auth can-i` as the given user (and groups): true for "yes", false for "no". A
 * resource may name a subresource: `mcpservers.portcullis.dev/status`. */
export async function canI(
  as: { user: string; groups?: string[] },
  verb: string,
  resource: string,
  namespace: string,
): Promise<boolean> {
  // "kind/status" would name an object called status: the subresource has a flag of its own.
  const [kind = resource, subresource] = resource.split('/');
  const args = [
    'auth',
    'can-i',
    verb,
    kind,
    ...(subresource ? [`--subresource=${subresource}`] : []),
    ...(namespace ? ['-n', namespace] : []),
    `--as=${as.user}`,
  ];
  for (const g of as.groups ?? []) args.push(`--as-group=${g}`);
  try {
    return (await kubectl(args)).trim() === 'yes';
  } catch (err) {
    // can-i exits 1 and prints "no" when the answer is no; anything else is a real failure.
    if (err instanceof KubectlError && err.exitCode === 1 && !/error/i.test(err.stderr)) return false;
    throw err;
  }
}

/** Minimal prometheus-operator CRDs (group, kinds, scope; schema left open) for server-side dry runs. */
export function monitoringCrds(): string {
  const crd = (kind: string, plural: string) => ({
    apiVersion: 'apiextensions.k8s.io/v1',
    kind: 'CustomResourceDefinition',
    metadata: { name: `${plural}.monitoring.coreos.com` },
    spec: {
      group: 'monitoring.coreos.com',
      scope: 'Namespaced',
      names: { kind, plural, listKind: `${kind}List`, singular: kind.toLowerCase() },
      versions: [
        {
          name: 'v1',
          served: true,
          storage: true,
          schema: {
            openAPIV3Schema: {
              type: 'object',
              properties: { spec: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true } },
            },
          },
        },
      ],
    },
  });
  return [
    crd('ServiceMonitor', 'servicemonitors'),
    crd('PodMonitor', 'podmonitors'),
    crd('PrometheusRule', 'prometheusrules'),
  ]
    .map((o) => stringify(o))
    .join('---\n');
}
