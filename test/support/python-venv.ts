import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { readFile, rm, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

// The Python state server's interpreter: a venv under ~/.cache/portcullis/ with the pinned `mcp`
// package from test/fixtures/stdio/python/requirements.txt, made on first use (pip, about a
// minute) and kept while the requirements stay the same.

const run = promisify(execFile);
const FOLDER = fileURLToPath(new URL('../fixtures/stdio/python/', import.meta.url));
export const PYTHON_STATE_SERVER = join(FOLDER, 'state_server.py');

export async function pythonForStateServer(): Promise<string> {
  const requirements = join(FOLDER, 'requirements.txt');
  const digest = createHash('sha256')
    .update(await readFile(requirements))
    .digest('hex')
    .slice(0, 12);
  const venv = join(homedir(), '.cache', 'portcullis', `stdio-python-${digest}`);
  const python = join(venv, 'bin', 'python');
  const done = join(venv, '.installed');
  if (existsSync(done)) return python;
  await rm(venv, { recursive: true, force: true });
  await run('python3', ['-m', 'venv', venv]);
  await run(
    join(venv, 'bin', 'pip'),
    ['install', '--quiet', '--disable-pip-version-check', '-r', requirements],
    {
      maxBuffer: 16 * 1024 * 1024,
    },
  );
  await writeFile(done, `${new Date().toISOString()}\n`);
  return python;
}
