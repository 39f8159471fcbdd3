import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { AUDIT_SCHEMA_FILE, renderAuditEventSchema } from '../../../../sidecar/src/audit/json-schema.ts';

describe('published audit event schema', () => {
  it(`${AUDIT_SCHEMA_FILE} matches the TypeBox definition (run npm run audit:schema)`, () => {
    // Compared as JSON: the formatter may lay the file out differently from JSON.stringify.
    expect(JSON.parse(readFileSync(AUDIT_SCHEMA_FILE, 'utf8'))).toStrictEqual(
      JSON.parse(renderAuditEventSchema()),
    );
  });
});
