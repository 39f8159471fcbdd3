import { writeFileSync } from 'node:fs';
import { AUDIT_SCHEMA_FILE, renderAuditEventSchema } from './json-schema.ts';

// npm run audit:schema: regenerates the published audit event JSON Schema (run from the repo root).
writeFileSync(AUDIT_SCHEMA_FILE, renderAuditEventSchema());
process.stdout.write(`wrote ${AUDIT_SCHEMA_FILE}\n`);
