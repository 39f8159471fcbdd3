import { createReadStream } from 'node:fs';
import type { Readable } from 'node:stream';
import { createVerifier } from './verify.ts';

// npm run audit:verify -- [--partial] [FILE ...]   (no FILE or '-': standard input)
// Files are read in the order given (oldest rotated file first). Exit 0: chain intact; 1: the first
// gap or altered event is named; 2: usage or I/O error.

async function main(argv: string[]): Promise<number> {
  const partial = argv.includes('--partial');
  const files = argv.filter((a) => a !== '--partial');
  if (files.some((f) => f.startsWith('--'))) {
    process.stderr.write('usage: audit:verify [--partial] [FILE ...]\n');
    return 2;
  }
  const verifier = createVerifier({ partial });
  const sources = files.length === 0 ? ['-'] : files;
  for (const source of sources) {
    const input = source === '-' ? process.stdin : createReadStream(source);
    let n = 0;
    for await (const text of linesOf(input)) {
      n += 1;
      if (!verifier.line(text, n)) {
        const f = verifier.state().failure;
        const where = f?.instance ? ` (instance ${f.instance}, seq ${f.seq})` : '';
        process.stdout.write(`FAIL ${source === '-' ? 'stdin' : source}:${f?.line}${where}: ${f?.problem}\n`);
        input.destroy();
        return 1;
      }
    }
  }
  const s = verifier.state();
  const detail = [...s.instances].map(([id, v]) => `${id}@${v.seq}`).join(', ');
  process.stdout.write(`OK ${s.events} events verified, ${s.skipped} other lines skipped; ${detail}\n`);
  return 0;
}

/**
 * The lines of a stream, ended by '\n' only. Hand-written because node:readline also ends a line at
 * U+2028, U+2029 and a lone '\r', which a JSON string may hold raw (another writer's export, an old
 * trail): it would cut a genuine event in two and call it altered.
 */
async function* linesOf(input: Readable): AsyncGenerator<string> {
  input.setEncoding('utf8'); // decodes characters split across chunks
  let rest = '';
  for await (const chunk of input as AsyncIterable<string>) {
    const parts = chunk.split('\n');
    // The chunk's start continues the line before it (joined only here, so a long line costs no rescans).
    parts[0] = rest + parts[0];
    rest = parts.pop() as string;
    yield* parts;
  }
  if (rest !== '') yield rest;
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    process.stderr.write(`audit:verify: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exitCode = 2;
  },
);
