import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

// The chart's crds/ folder holds copies of crds/ (generated from operator/src/api); one source of
// truth, so a copy that drifts fails here. Fix: `npm run crds:generate && npm run chart:crds`.

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
});
