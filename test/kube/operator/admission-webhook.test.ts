import { X509Certificate } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../../../sidecar/src/quickstart/everything.ts';
import { createNamespace, KubectlError, kubectl, kubectlJson } from '../../support/kube.ts';
import { applyCrds, type InProcessOperator, startOperator } from '../../support/operator.ts';

// The operator's admission webhook on the real API server: it makes its own CA and serving
// certificate (a Secret it owns), registers a ValidatingWebhookConfiguration with that CA, and the
// API server then refuses, at `kubectl apply`, an McpPolicy or ClusterMcpPolicy whose CEL does not
// compile, with the compiler's error. Valid policies pass.

let ns: Awaited<ReturnType<typeof createNamespace>>;
let op: InProcessOperator;
let webhookName: string;

const policy = (name: string, when: string) =>
  JSON.stringify({
    apiVersion: 'portcullis.dev/v1alpha1',
    kind: 'McpPolicy',
    metadata: { name },
    spec: {
      servers: {},
      rules: [
        { name: 'refunds', action: 'allow', subjects: [{ group: 'support' }], tools: ['refund'], when },
      ],
    },
  });

beforeAll(async () => {
  await applyCrds();
  ns = await createNamespace('webhook');
  webhookName = `portcullis-policies-${ns.name}`;
  const port = await freePort();
  op = await startOperator(ns.name, 'op-0', [
    '--webhook-addr',
    `127.0.0.1:${port}`,
    '--webhook-url',
    `https://127.0.0.1:${port}`,
    '--webhook-name',
    webhookName,
  ]);
});

afterAll(async () => {
  await op?.stop();
  await kubectl(['delete', 'validatingwebhookconfiguration', webhookName, '--ignore-not-found']).catch(
    () => undefined,
  );
  await ns?.remove();
});

async function applyRefused(manifest: string, namespace?: string): Promise<string> {
  try {
    await kubectl([...(namespace ? ['-n', namespace] : []), 'apply', '-f', '-'], manifest);
  } catch (err) {
    if (err instanceof KubectlError) return err.stderr;
    throw err;
  }
  throw new Error('the API server admitted it');
}

describe('admission webhook', () => {
  it('registers itself with the CA of a Secret it created', async () => {
    const secret = await kubectlJson<{
      metadata: { labels: Record<string, string> };
      data: Record<string, string>;
    }>(['-n', ns.name, 'get', 'secret', 'portcullis-webhook-tls']);
    expect(secret.metadata.labels['app.kubernetes.io/managed-by']).toBe('portcullis');
    const vwc = await kubectlJson<{
      webhooks: { clientConfig: { caBundle: string }; failurePolicy: string }[];
    }>(['get', 'validatingwebhookconfiguration', webhookName]);
    expect(vwc.webhooks[0]?.clientConfig.caBundle).toBe(secret.data['ca.crt']);
    expect(vwc.webhooks[0]?.failurePolicy).toBe('Ignore');
    const ca = new X509Certificate(Buffer.from(secret.data['ca.crt'] ?? '', 'base64'));
    const serving = new X509Certificate(Buffer.from(secret.data['tls.crt'] ?? '', 'base64'));
    expect(serving.verify(ca.publicKey)).toBe(true);
    expect(serving.checkIP('127.0.0.1')).toBe('127.0.0.1');
  });

  it('refuses an McpPolicy whose CEL does not compile, at apply, with the error', async () => {
    const stderr = await applyRefused(policy('broken', 'arguments.amount =< 100'), ns.name);
    expect(stderr).toContain('admission webhook');
    expect(stderr).toContain('denied the request');
    expect(stderr).toMatch(/rule "refunds": when: .*at line 1, column \d+/);
    await expect(kubectl(['-n', ns.name, 'get', 'mcppolicy', 'broken'])).rejects.toBeInstanceOf(KubectlError);
  });

  it('refuses a ClusterMcpPolicy whose condition is not a bool', async () => {
    const name = `broken-${ns.name}`;
    const stderr = await applyRefused(
      JSON.stringify({
        apiVersion: 'portcullis.dev/v1alpha1',
        kind: 'ClusterMcpPolicy',
        metadata: { name },
        spec: {
          namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': ns.name } },
          servers: {},
          rules: [
            {
              name: 'cap',
              action: 'deny',
              subjects: [{ anyAuthenticated: true }],
              tools: ['*'],
              when: 'arguments',
            },
          ],
        },
      }),
    );
    expect(stderr).toContain('denied the request');
    expect(stderr).toContain('rule "cap": when: condition has type map, not bool');
  });

  it('admits a policy that compiles', async () => {
    await kubectl(
      ['-n', ns.name, 'apply', '-f', '-'],
      policy('fine', 'has(arguments.amount) && arguments.amount <= 100'),
    );
    expect((await kubectl(['-n', ns.name, 'get', 'mcppolicy', 'fine', '-o', 'name'])).trim()).toBe(
      'mcppolicy.portcullis.dev/fine',
    );
  });
});
