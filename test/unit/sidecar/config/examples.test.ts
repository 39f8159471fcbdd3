import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../../../sidecar/src/config/load.ts';
import { parsePrincipalCredentials } from '../../../../sidecar/src/upstream/credentials/index.ts';

// The standalone sidecar examples stay valid: their configurations and the per-principal mapping.

const dir = join(import.meta.dirname, '..', '..', '..', '..', 'examples', 'sidecar');

describe('examples/sidecar', () => {
  it.each(readdirSync(dir).filter((f) => f.endsWith('.sidecar.yaml')))(
    '%s is a valid configuration',
    (file) => {
      const r = parseConfig(readFileSync(join(dir, file), 'utf8'));
      expect(r.ok ? [] : r.issues).toEqual([]);
    },
  );

  it('prefect-credentials.yaml is a valid mapping', () => {
    const map = parsePrincipalCredentials(readFileSync(join(dir, 'prefect-credentials.yaml'), 'utf8'), 'x');
    expect([...map.users.keys()]).toEqual(['alice@example.com', 'bob@example.com']);
  });
});
