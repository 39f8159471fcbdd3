import { describe, expect, it } from 'vitest';
import { KubectlError } from '../../support/kube.ts';
import { applyManifest, setUpNamespace } from '../../support/operator.ts';

// What the real API server says about McpServers the CRD refuses: each refusal names the field.

const ns = setUpNamespace('op-admission', { operator: false });

async function refusal(manifest: object): Promise<string> {
  try {
    await applyManifest(ns.name, JSON.stringify(manifest));
  } catch (err) {
    if (err instanceof KubectlError) return err.message;
    throw err;
  }
  throw new Error('the API server accepted it');
}

describe('McpServer admission', () => {
  it('names metadata.name as the path of a name that cannot be a Service name, not <nil>', async () => {
    const message = await refusal({
      apiVersion: 'portcullis.dev/v1alpha1',
      kind: 'McpServer',
      metadata: { name: '1-server' },
      spec: { hosted: { image: 'mcp:1', transport: 'streamable-http', port: 3000 } },
    });
    expect(message).toContain('metadata.name: Invalid value');
    expect(message).toContain('the name must be a DNS label');
    expect(message).not.toContain('<nil>');
  });
});
