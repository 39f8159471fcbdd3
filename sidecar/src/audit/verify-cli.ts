import { createReadStream } from 'node:fs';
import { createInterface } from 'node:readline';
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
    const lines = createInterface({ input, crlfDelay: Number.POSITIVE_INFINITY });
    let n = 0;
    for await (const text of lines) {
      n += 1;
      if (!verifier.line(text, n)) {
        const f = verifier.state().failure;
        const where = f?.instance ? ` (instance ${f.instance}, seq ${f.seq})` : '';
        process.stdout.write(`FAIL ${source === '-' ? 'stdin' : source}:${f?.line}${where}: ${f?.problem}\n`);
        lines.close();
        return 1;
      }
    }
  }
  const s = verifier.state();
  const detail = [...s.instances].map(([id, v]) => `${id}@${v.seq}`).join(', ');
  process.stdout.write(`OK ${s.events} events verified, ${s.skipped} other lines skipped; ${detail}\n`);
  return 0;
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
