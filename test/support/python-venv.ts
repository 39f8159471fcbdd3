import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { buildOnce, cacheDir } from './cache.ts';

// The Python fixtures' interpreters: a venv per requirements file under ~/.cache/portcullis/, named
// after it and its digest, made with pip on first use (a minute or more) and kept while the file stays
// the same. The venv is built aside and renamed into place, so its scripts' #! lines point to where it
// was built: run everything through its python (`python -m ...`). PYTHON names the interpreter that
// makes the venv (default python3). `node test/support/python-venv.ts` makes the MCP SDK's venv
// ahead of the tests (test/run.sh does).

const run = promisify(execFile);

/** The one pin of the Python MCP SDK. */
export const MCP_REQUIREMENTS = fileURLToPath(new URL('../fixtures/requirements.txt', import.meta.url));

/** The python of a venv holding what `requirements` pins. */
export async function pythonVenv(name: string, requirements: string): Promise<string> {
  const digest = createHash('sha256')
    .update(await readFile(requirements))
    .digest('hex')
    .slice(0, 12);
  const venv = await buildOnce(cacheDir(`${name}-${digest}`), async (staging) => {
    await run(process.env.PYTHON ?? 'python3', ['-m', 'venv', staging]);
    await run(
      join(staging, 'bin', 'python'),
      ['-m', 'pip', 'install', '--quiet', '--disable-pip-version-check', '-r', requirements],
      { maxBuffer: 16 << 20 },
    );
  });
  return join(venv, 'bin', 'python');
}

/** The python every Python MCP fixture runs on. */
export function pythonWithMcp(): Promise<string> {
  return pythonVenv('python-mcp', MCP_REQUIREMENTS);
}

if (process.argv[1] === fileURLToPath(import.meta.url)) console.log(await pythonWithMcp());
