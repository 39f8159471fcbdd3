// Proof that the tests' cluster is a real Kubernetes: controllers, scheduler, garbage collector,
// CEL validation and server-side apply all behave as they do in production.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createNamespace, eventually, KubectlError, kubectl, kubectlJson } from '../../support/kube.ts';

interface List<T> {
  items: T[];
}
interface Pod {
  metadata: { name: string; ownerReferences?: { kind: string }[] };
  spec: { nodeName?: string };
  status: { phase?: string; conditions?: { type: string; status: string }[] };
}

const deployment = (name: string, replicas: number) => `apiVersion: apps/v1
kind: Deployment
metadata: { name: ${name}, labels: { app: ${name} } }
spec:
  replicas: ${replicas}
  selector: { matchLabels: { app: ${name} } }
  template:
    metadata: { labels: { app: ${name} } }
    spec:
      containers: [{ name: web, image: registry.invalid/web:1 }]
`;

const isReady = (p: Pod) =>
  p.status.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false;

describe('the local control plane', () => {
  let ns: Awaited<ReturnType<typeof createNamespace>>;
  beforeAll(async () => {
    ns = await createNamespace('cluster');
  });
  afterAll(async () => {
    await ns.remove();
  });

  it('runs a Deployment: ReplicaSet, scheduled pods that turn Running and Ready', async () => {
    await kubectl(['apply', '-n', ns.name, '-f', '-'], deployment('web', 3));
    const pods = await eventually('3 ready pods', async () => {
      const list = await kubectlJson<List<Pod>>(['get', 'pods', '-n', ns.name, '-l', 'app=web']);
      return list.items.length === 3 && list.items.every(isReady) ? list.items : undefined;
    });
    expect(pods.every((p) => p.status.phase === 'Running' && p.spec.nodeName === 'kwok-node-0')).toBe(true);
    expect(pods.every((p) => p.metadata.ownerReferences?.[0]?.kind === 'ReplicaSet')).toBe(true);
    const rs = await kubectlJson<List<unknown>>(['get', 'replicasets', '-n', ns.name, '-l', 'app=web']);
    expect(rs.items).toHaveLength(1);
    await eventually('deployment available', async () =>
      (await kubectl([
        'get',
        'deployment',
        'web',
        '-n',
        ns.name,
        '-o',
        'jsonpath={.status.availableReplicas}',
      ])) === '3'
        ? true
        : undefined,
    );
  });

  it('garbage-collects the dependents of a deleted owner', async () => {
    await kubectl(['apply', '-n', ns.name, '-f', '-'], deployment('owner', 2));
    await eventually('2 pods', async () => {
      const list = await kubectlJson<List<Pod>>(['get', 'pods', '-n', ns.name, '-l', 'app=owner']);
      return list.items.length === 2 ? true : undefined;
    });
    await kubectl(['delete', 'deployment', 'owner', '-n', ns.name, '--cascade=background', '--wait=false']);
    await eventually('ReplicaSet and pods collected', async () => {
      const rs = await kubectlJson<List<unknown>>(['get', 'replicasets', '-n', ns.name, '-l', 'app=owner']);
      const pods = await kubectlJson<List<unknown>>(['get', 'pods', '-n', ns.name, '-l', 'app=owner']);
      return rs.items.length === 0 && pods.items.length === 0 ? true : undefined;
    });
  });

  it('rejects an object that breaks a CRD CEL validation rule, with the rule message', async () => {
    const group = `${ns.name}.example.com`;
    await kubectl(
      ['apply', '-f', '-'],
      `apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata: { name: widgets.${group} }
spec:
  group: ${group}
  scope: Namespaced
  names: { plural: widgets, singular: widget, kind: Widget }
  versions:
  - name: v1
    served: true
    storage: true
    schema:
      openAPIV3Schema:
        type: object
        properties:
          spec:
            type: object
            properties:
              min: { type: integer }
              max: { type: integer }
            x-kubernetes-validations:
            - rule: self.min <= self.max
              message: min must not exceed max
`,
    );
    await kubectl(['wait', '--for=condition=Established', `crd/widgets.${group}`, '--timeout=30s']);
    const widget = (min: number, max: number) =>
      `apiVersion: ${group}/v1\nkind: Widget\nmetadata: { name: w${min}${max} }\nspec: { min: ${min}, max: ${max} }\n`;
    await eventually('the new kind is served', async () => {
      await kubectl(['apply', '-n', ns.name, '-f', '-'], widget(1, 2));
      return true;
    });
    const err = await kubectl(['apply', '-n', ns.name, '-f', '-'], widget(5, 2)).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(KubectlError);
    expect((err as KubectlError).stderr).toContain('min must not exceed max');
    await kubectl(['delete', 'crd', `widgets.${group}`, '--wait=false']);
  });

  it('reports a server-side apply conflict between two field managers', async () => {
    const cm = (value: string) =>
      `apiVersion: v1\nkind: ConfigMap\nmetadata: { name: shared }\ndata: { owner: "${value}" }\n`;
    await kubectl(['apply', '--server-side', '--field-manager=alice', '-n', ns.name, '-f', '-'], cm('alice'));
    const err = await kubectl(
      ['apply', '--server-side', '--field-manager=bob', '-n', ns.name, '-f', '-'],
      cm('bob'),
    ).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(KubectlError);
    expect((err as KubectlError).stderr).toMatch(/conflict/i);
    expect((err as KubectlError).stderr).toContain('alice');
    expect(await kubectl(['get', 'configmap', 'shared', '-n', ns.name, '-o', 'jsonpath={.data.owner}'])).toBe(
      'alice',
    );
    await kubectl(
      ['apply', '--server-side', '--force-conflicts', '--field-manager=bob', '-n', ns.name, '-f', '-'],
      cm('bob'),
    );
    expect(await kubectl(['get', 'configmap', 'shared', '-n', ns.name, '-o', 'jsonpath={.data.owner}'])).toBe(
      'bob',
    );
  });
});
