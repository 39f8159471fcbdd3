import { readFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { parse } from 'yaml';
import { validateConfig } from '../../sidecar/src/config/load.ts';
import { startSidecar } from '../../sidecar/src/server/sidecar.ts';

// A sidecar in its own process for the per-sink audit benchmark: the configuration file as main.ts
// reads it, plus `--audit off`, which the real entry point rightly does not offer (audit is
// cluster-owned), for the baseline row. Audit events of the stdout sink go to this process's
// stdout, which the benchmark discards; readiness is the admin port's /readyz.

const { values } = parseArgs({
  options: { config: { type: 'string' }, audit: { type: 'string', default: 'config' } },
});
const result = validateConfig(parse(await readFile(values.config ?? '', 'utf8')));
if (!result.ok) throw new Error(`invalid configuration: ${JSON.stringify(result.issues)}`);
const sidecar = await startSidecar({
  config: result.config,
  audit: values.audit === 'off' ? 'off' : 'config',
});
process.on('SIGTERM', () => {
  void sidecar.close().then(() => process.exit(0));
});
