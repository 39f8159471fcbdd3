import { copyFileSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';

// Copies the generated CRDs (crds/, written by `npm run crds:generate` from operator/src/api) into
// the chart's crds/ folder, which Helm installs before anything else. The chart never edits them;
// test/unit/charts/crds-in-sync.test.ts fails when the copies drift.

const root = join(import.meta.dirname, '..', '..');
const SOURCE_DIR = join(root, 'crds');
const CHART_CRD_DIR = join(root, 'charts', 'portcullis', 'crds');

const isCrd = (f: string) => f.endsWith('.yaml');

for (const f of readdirSync(CHART_CRD_DIR).filter(isCrd)) rmSync(join(CHART_CRD_DIR, f));
for (const f of readdirSync(SOURCE_DIR).filter(isCrd)) {
  copyFileSync(join(SOURCE_DIR, f), join(CHART_CRD_DIR, f));
  process.stdout.write(`copied crds/${f} -> charts/portcullis/crds/${f}\n`);
}
