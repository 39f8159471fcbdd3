import { writeSync } from 'node:fs';
import { registerHooks } from 'node:module';

// Loaded with `node --import` by footprint tests: every module the process loads from a file, one
// `LOADED <url>` line on stderr, so a test can tell which packages a configuration pulls in; and at
// exit `BUNDLED_UNDICI true|false`, whether Node's own bundled copy of undici was loaded (an internal
// module, which no hook sees).

registerHooks({
  load(url, context, nextLoad) {
    if (url.startsWith('file:')) writeSync(2, `LOADED ${url}\n`);
    return nextLoad(url, context);
  },
});

process.once('exit', () => {
  // process.moduleLoadList (Node's list of its own modules loaded) is undocumented, hence untyped.
  const list = (process as unknown as { moduleLoadList: string[] }).moduleLoadList;
  const loaded = list.some((m) => m.includes('internal/deps/undici/undici'));
  writeSync(2, `BUNDLED_UNDICI ${loaded}\n`);
});
