import { readFile, writeFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { loadConfigFile } from '../config/load.ts';
import { resolveInjectedHeaders } from '../upstream/headers.ts';
import { pinsFrom, withPins } from './approve.ts';
import { memoryPinStore, PinBook } from './book.ts';
import { formatChanges } from './diff.ts';
import { startPinWatcher } from './watch.ts';

// `npm run pins -- --config FILE`: a standalone sidecar's approval. Reads the live server's tools,
// prompts, resource templates and instructions with the sidecar's own identity (the configured
// upstream credentials), prints what differs from the pins in the file, and with --write stores
// them as `pinning.pins`. Definitions with hidden Unicode are skipped unless --include-suspicious.

const { values } = parseArgs({
  options: {
    config: { type: 'string', short: 'c' },
    write: { type: 'boolean' },
    'include-suspicious': { type: 'boolean' },
    help: { type: 'boolean', short: 'h' },
  },
});
if (values.help === true || values.config === undefined) {
  process.stdout.write(
    'Usage: npm run pins -- --config FILE [--write] [--include-suspicious]\n\n' +
      "Reads the upstream's definitions and prints the pins (and what changed since the file's pins);\n" +
      "--write stores them in the file's pinning.pins (mode Enforce when the file sets none).\n",
  );
  process.exit(values.help === true ? 0 : 2);
}
const file = values.config;
const loaded = await loadConfigFile(file);
if (!loaded.ok) {
  for (const i of loaded.issues) process.stderr.write(`${file}: ${i.path}: ${i.message}\n`);
  process.exit(1);
}
const config = loaded.config;
if (config.upstream.url === undefined) {
  process.stderr.write(
    'pins: only HTTP upstreams (upstream.url) can be read; run the sidecar for stdio servers\n',
  );
  process.exit(1);
}
const approved = new Map(
  (config.pinning?.pins ?? []).map((p) => [
    p.kind === 'instructions' ? p.kind : `${p.kind}/${p.name ?? ''}`,
    p.digest,
  ]),
);
const book = new PinBook({ mode: 'Observe', approved, store: memoryPinStore() });
const errors: Error[] = [];
const watcher = startPinWatcher({
  url: config.upstream.url,
  headers: resolveInjectedHeaders(config, process.env),
  book,
  intervalMs: 3_600_000,
  onError: (err) => errors.push(err),
});
await watcher.refresh();
await watcher.close();
if (errors.length > 0) {
  process.stderr.write(`pins: reading ${config.upstream.url} failed: ${errors[0]?.message}\n`);
  process.exit(1);
}
const { pins, skipped } = pinsFrom(book.list(), { includeSuspicious: values['include-suspicious'] === true });
for (const o of book.list()) {
  const label = o.kind === 'instructions' ? 'instructions' : `${o.kind} ${o.name}`;
  const key = o.kind === 'instructions' ? o.kind : `${o.kind}/${o.name}`;
  const state = o.reason ?? (approved.has(key) ? 'approved' : 'new');
  process.stdout.write(`${state.padEnd(11)} ${label}  ${o.digest}\n`);
  if (o.changes !== undefined && o.changes.length > 0 && o.reason === 'changed') {
    process.stdout.write(`${formatChanges(o.changes).replace(/^/gm, '    ')}\n`);
  }
}
for (const o of skipped) {
  process.stderr.write(
    `skipped ${o.kind} ${o.name}: hidden Unicode ${o.suspicious?.map((s) => `${s.codePoint} at ${s.path}`).join(', ')}\n`,
  );
}
if (values.write === true) {
  await writeFile(file, withPins(await readFile(file, 'utf8'), pins));
  process.stdout.write(`wrote ${pins.length} pins to ${file}\n`);
}
