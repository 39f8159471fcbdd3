import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import type { McpServer } from '../../../../operator/src/api/mcp-server.ts';
import { renderServer } from '../../../../operator/src/render/render-server.ts';
import { validateConfig } from '../../../../sidecar/src/config/load.ts';
import { defaults } from './builders.ts';
import { admit } from './crd-validator.ts';

// examples/stdio/ must be what `kubectl apply -f examples/stdio/` accepts, and what the operator
// renders into a sidecar configuration the sidecar accepts.

const dir = join(import.meta.dirname, '..', '..', '..', '..', 'examples', 'stdio');
const servers = readdirSync(dir)
  .filter((f) => f.endsWith('.yaml'))
  .flatMap((file) => parseAllDocuments(readFileSync(join(dir, file), 'utf8')).map((d) => d.toJS()))
  .filter((o: { kind: string }) => o.kind === 'McpServer') as McpServer[];

describe('examples/stdio/', () => {
  it('holds the everything server and Prefect’s MCP server', () => {
    expect(servers.map((s) => s.metadata.name).sort()).toEqual(['everything-stdio', 'prefect']);
  });

  it.each(servers.map((s) => [s.metadata.name, s] as const))(
    '%s passes the CRD schema and its CEL rules and renders a configuration the sidecar accepts',
    (_, object) => {
      const admitted = admit('McpServer', object);
      expect(admitted.errors).toEqual([]);
      const server = {
        ...(admitted.value as McpServer),
        metadata: { ...object.metadata, namespace: 'demo', uid: 'uid-1' },
      };
      const r = renderServer({ server, policies: [], defaults: defaults() });
      if (!r.ok) throw r.error;
      expect(r.config.upstream.transport).toBe('stdio');
      expect(validateConfig(JSON.parse(JSON.stringify(r.config))).ok).toBe(true);
    },
  );
});
