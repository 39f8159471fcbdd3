import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { crdFiles } from './crds.ts';

// `npm run crds:generate`: writes crds/*.yaml from the TypeBox schemas (the npm script then copies them
// into the chart, so the two cannot drift). The only I/O of the API package.

const outDir = join(import.meta.dirname, '..', '..', '..', 'crds');
await mkdir(outDir, { recursive: true });
for (const [name, text] of crdFiles()) {
  await writeFile(join(outDir, name), text);
  console.log(`wrote crds/${name}`);
}
