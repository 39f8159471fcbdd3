import { readFile } from 'node:fs/promises';

/**
 * The complete lines of an NDJSON file another process is still appending to, parsed. A line
 * without its newline yet is being written: it is left for the next read, never half-parsed.
 */
export async function readCompleteLines<T>(file: string): Promise<T[]> {
  const text = await readFile(file, 'utf8').catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'ENOENT') return '';
    throw err;
  });
  const lines = text.split('\n');
  lines.pop(); // '' after the last newline, or a line still being written
  return lines.filter((l) => l.length > 0).map((l) => JSON.parse(l) as T);
}
