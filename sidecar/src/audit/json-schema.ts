import { AuditEvent } from './event.ts';

// The published JSON Schema of the audit event, rendered from the TypeBox definition. The file in the
// repository (AUDIT_SCHEMA_FILE) is written by `npm run audit:schema`; a unit test fails when stale.

export const AUDIT_SCHEMA_FILE = 'sidecar/audit-event.v1.schema.json';

export function renderAuditEventSchema(): string {
  // TypeBox schemas are plain JSON Schema; its own markers are symbols, which JSON drops.
  const schema = { $schema: 'https://json-schema.org/draft/2020-12/schema', ...AuditEvent };
  return `${JSON.stringify(schema, null, 2)}\n`;
}
