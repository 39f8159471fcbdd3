import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { renderValuesSchema, VALUES_SCHEMA_FILE } from '../../../charts/scripts/values-schema.ts';
import { parseOperatorDefaults } from '../../../operator/src/api/operator-defaults.ts';

// values.schema.json is generated (npm run chart:schema), its `config` from the operator's own
// OperatorDefaults schema; the chart's default config is one the operator accepts.

const CHART = new URL('../../../charts/portcullis/', import.meta.url).pathname;
const values = parse(readFileSync(join(CHART, 'values.yaml'), 'utf8')) as {
  config: Record<string, unknown>;
  sidecar: { image: { repository: string; tag: string } };
};

describe('chart values', () => {
  it('values.schema.json is up to date (npm run chart:schema)', () => {
    // Compared as JSON: biome formats the file.
    expect(JSON.parse(readFileSync(VALUES_SCHEMA_FILE, 'utf8'))).toEqual(JSON.parse(renderValuesSchema()));
  });

  it('describes every top-level key of values.yaml', () => {
    const schema = JSON.parse(renderValuesSchema()) as { properties: Record<string, unknown> };
    for (const key of Object.keys(values)) expect(Object.keys(schema.properties), key).toContain(key);
  });

  it('default config plus the sidecar image is a valid operator --defaults file', () => {
    const file = {
      ...values.config,
      sidecar: { ...(values.config.sidecar as object), image: 'portcullis/sidecar:0.1.0' },
    };
    const parsed = parseOperatorDefaults(file);
    expect(parsed.sidecar.image).toBe('portcullis/sidecar:0.1.0');
    expect(parsed.audit.sinks).toEqual([{ type: 'stdout' }]);
  });

  it('sets config keys only in the schema of the operator (which refuses unknown ones)', () => {
    expect(() => parseOperatorDefaults({ ...values.config, sidecar: { image: 'x' }, bogus: 1 })).toThrow(
      /bogus|\//,
    );
  });
});
