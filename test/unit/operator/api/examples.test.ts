import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import type { McpPolicy } from '../../../../operator/src/api/mcp-policy.ts';
import type { McpServer } from '../../../../operator/src/api/mcp-server.ts';
import { policiesForServer } from '../../../../operator/src/policy/selection.ts';
import { validatePolicy } from '../../../../operator/src/policy/validation.ts';
import { renderServer } from '../../../../operator/src/render/render-server.ts';
import { validateConfig } from '../../../../sidecar/src/config/load.ts';
import { defaults } from './builders.ts';
import { admit } from './crd-validator.ts';

// examples/ must be what `kubectl apply -f examples/` accepts, and what the operator can run.

const dir = join(import.meta.dirname, '..', '..', '..', '..', 'examples');
const objects = readdirSync(dir)
  .filter((f) => f.endsWith('.yaml'))
  .flatMap((file) =>
    parseAllDocuments(readFileSync(join(dir, file), 'utf8')).map((doc) => {
      const object = doc.toJS() as { kind: string; metadata: { name: string } };
      return { file, object };
    }),
  );
const placed = <T>(o: unknown) =>
  ({
    ...(o as object),
    metadata: { ...(o as { metadata: object }).metadata, namespace: 'demo', uid: 'uid-1' },
  }) as T;
const servers = objects
  .filter((o) => o.object.kind === 'McpServer')
  .map((o) => placed<McpServer>(admit('McpServer', o.object).value));
const policies = objects.filter((o) => o.object.kind === 'McpPolicy').map((o) => placed<McpPolicy>(o.object));

describe('examples/', () => {
  it('holds one hosted server and two policies', () => {
    expect(servers).toHaveLength(1);
    expect(policies).toHaveLength(2);
  });

  it.each(objects.map((o) => [`${o.file}: ${o.object.kind} ${o.object.metadata.name}`, o.object] as const))(
    '%s passes the CRD schema and its CEL rules',
    (_, object) => {
      expect(admit(object.kind, object).errors).toEqual([]);
    },
  );

  it.each(policies.map((p) => [p.metadata.name, p] as const))(
    'policy %s compiles (Accepted=True)',
    (_, p) => {
      expect(validatePolicy(p)).toEqual([]);
    },
  );

  it('renders the server with both policies into a configuration the sidecar accepts', () => {
    const server = servers[0] as McpServer;
    const selected = policiesForServer(server, policies);
    expect(selected.map((p) => p.metadata.name)).toEqual(['engineers-read', 'guardrails']);
    const r = renderServer({ server, policies: selected, defaults: defaults() });
    if (!r.ok) throw r.error;
    const loaded = validateConfig(r.config);
    expect(loaded.ok ? [] : loaded.issues).toEqual([]);
  });
});
