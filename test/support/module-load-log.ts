import { writeSync } from 'node:fs';
import { registerHooks } from 'node:module';

// Loaded with `node --import` by footprint tests: every module the process loads from a file, one
// `LOADED <url>` line on stderr, so a test can tell which packages a configuration pulls in.

registerHooks({
  load(url, context, nextLoad) {
    if (url.startsWith('file:')) writeSync(2, `LOADED ${url}\n`);
    return nextLoad(url, context);
  },
});
