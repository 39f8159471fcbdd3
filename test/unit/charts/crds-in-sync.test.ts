import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

// The chart's crds/ folder holds copies of crds/ (generated from operator/src/api); one source of
// truth, so a copy that drifts fails here. Fix: `npm run crds:generate`, which refreshes both.

const ROOT = new URL('../../../', import.meta.url).pathname;
const yamlFiles = (dir: string) =>
  readdirSync(dir)
    .filter((f) => f.endsWith('.yaml'))
    .sort();

describe('chart CRDs', () => {
  const source = join(ROOT, 'crds');
  const chart = join(ROOT, 'charts', 'portcullis', 'crds');

  it('are the same files as crds/', () => {
    expect(yamlFiles(chart)).toEqual(yamlFiles(source));
    expect(yamlFiles(source).length).toBeGreaterThan(0);
  });

  it.each(yamlFiles(source))('%s is a byte-for-byte copy (npm run chart:crds)', (file) => {
    expect(readFileSync(join(chart, file), 'utf8')).toBe(readFileSync(join(source, file), 'utf8'));
  });

  it('are refreshed by `npm run crds:generate` itself, after the generator succeeds', () => {
    const scripts = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')).scripts as Record<
      string,
      string
    >;
    const steps = (scripts['crds:generate'] ?? '').split('&&').map((s) => s.trim());
    expect(steps).toEqual(['node operator/src/api/generate-crds.ts', 'npm run chart:crds']);
    expect(scripts['chart:crds']).toBe('node charts/scripts/sync-crds.ts');
  });
});
