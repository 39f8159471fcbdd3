import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import type { McpServer } from '../../../../operator/src/api/mcp-server.ts';
import { renderServer } from '../../../../operator/src/render/render-server.ts';
import { validateConfig } from '../../../../sidecar/src/config/load.ts';
import { parsePrincipalCredentials } from '../../../../sidecar/src/upstream/credentials/index.ts';
import { defaults } from './builders.ts';
import { admit } from './crd-validator.ts';

// examples/external/ must be what `kubectl apply -f examples/external/` accepts, render a gateway
// configuration the sidecar accepts, and carry a per-user mapping the sidecar can read.

const file = join(import.meta.dirname, '..', '..', '..', '..', 'examples', 'external', 'vendor-mcp.yaml');
const docs = parseAllDocuments(readFileSync(file, 'utf8')).map((d) => d.toJS()) as {
  kind: string;
  metadata: { name: string };
  stringData?: Record<string, string>;
}[];

describe('examples/external/', () => {
  it('the McpServer passes the CRD rules and renders a gateway configuration the sidecar accepts', () => {
    const object = docs.find((d) => d.kind === 'McpServer') as unknown as McpServer;
    const admitted = admit('McpServer', object);
    expect(admitted.errors).toEqual([]);
    const server = {
      ...(admitted.value as McpServer),
      metadata: { ...object.metadata, namespace: 'demo', uid: 'u' },
    };
    const r = renderServer({ server, policies: [], defaults: defaults() });
    if (!r.ok) throw r.error;
    expect(r.config.upstream).toMatchObject({
      transport: 'streamable-http',
      url: 'https://mcp.vendor.example/v1/mcp',
      tls: { serverName: 'mcp.vendor.example' },
      auth: { mode: 'perPrincipal' },
    });
    expect(validateConfig(JSON.parse(JSON.stringify(r.config))).ok).toBe(true);
  });

  it('the per-user key mapping is one the sidecar reads', () => {
    const secret = docs.find((d) => d.kind === 'Secret');
    const mapping = parsePrincipalCredentials(
      secret?.stringData?.['credentials.yaml'] ?? '',
      'credentials.yaml',
    );
    expect(mapping.users.get('alice@example.com')?.id).toBe('alice-vendor');
    expect(mapping.serviceAccounts.get('ci/release-bot')?.id).toBe('release-bot-vendor');
  });

  it('the policy passes the CRD rules', () => {
    expect(
      admit(
        'McpPolicy',
        docs.find((d) => d.kind === 'McpPolicy'),
      ).errors,
    ).toEqual([]);
  });
});
