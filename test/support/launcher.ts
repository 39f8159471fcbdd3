import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { cacheRoot, ensure } from '../fixtures/upstreams/install.ts';

// The stdio launcher (sidecar/launcher), built static the way Dockerfile.sidecar builds it and
// cached by its sources' digest, so a test runs the same binary a pod would.

const run = promisify(execFile);
const SOURCE = fileURLToPath(new URL('../../sidecar/launcher/', import.meta.url));

export async function ensureLauncher(): Promise<string> {
  const hash = createHash('sha256');
  for (const f of ['go.mod', 'main.go']) hash.update(f).update(await readFile(join(SOURCE, f)));
  const dir = join(cacheRoot(), '..', 'launcher', hash.digest('hex').slice(0, 12));
  return ensure(join(dir, 'launcher'), async (staging) => {
    const env = { ...process.env, CGO_ENABLED: '0', GOFLAGS: '-mod=readonly' };
    await run('go', ['build', '-trimpath', '-ldflags=-s -w', '-o', staging, '.'], { cwd: SOURCE, env });
  });
}
