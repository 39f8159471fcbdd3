import { mkdir, mkdtemp, rename, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { loadConfigFile } from '../../../sidecar/src/config/load.ts';
import type { RunningSidecar } from '../../../sidecar/src/server/sidecar.ts';
import { type EchoUpstream, startEchoUpstream } from '../../support/echo-upstream.ts';
import { allow, KEYS, rawConfig, sidecarFor } from '../../support/harness.ts';

// The configuration file is watched the way Kubernetes updates a ConfigMap mount (a `..data`
// symlink swapped to a new directory): a valid change applies without dropping the open session,
// an invalid one is refused, the last good configuration stays, and the metrics say so.

let upstream: EchoUpstream;
let sidecar: RunningSidecar;
let dir: string;
let version = 0;

async function publish(content: string): Promise<void> {
  // ConfigMap layout: config.yaml -> ..data/config.yaml, ..data -> ..<timestamp dir>
  version++;
  const target = join(dir, `..v${version}`);
  await mkdir(target);
  await writeFile(join(target, 'config.yaml'), content);
  await symlink(`..v${version}`, join(dir, '..data_tmp'));
  await rename(join(dir, '..data_tmp'), join(dir, '..data'));
}

const withTools = (tools: string[]) =>
  stringify(
    rawConfig({
      upstream: { transport: 'streamable-http', url: upstream.url },
      rules: [allow('alice', { subjects: [{ user: 'alice' }], tools })],
    }),
  );

async function metric(name: string): Promise<number> {
  const text = await (await fetch(`${sidecar.adminUrl}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith(`${name} `) || l.startsWith(`${name}{`));
  return Number(line?.split(' ').pop());
}

async function eventually(check: () => Promise<boolean>, ms = 5000): Promise<void> {
  const until = Date.now() + ms;
  while (Date.now() < until) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error('condition not met in time');
}

beforeAll(async () => {
  upstream = await startEchoUpstream();
  dir = await mkdtemp(join(tmpdir(), 'portcullis-config-'));
  await publish(withTools(['alpha']));
  await symlink('..data/config.yaml', join(dir, 'config.yaml'));
  const file = join(dir, 'config.yaml');
  const loaded = await loadConfigFile(file);
  if (!loaded.ok) throw new Error(JSON.stringify(loaded.issues));
  sidecar = await sidecarFor(loaded.config, undefined, { configFile: file, digest: loaded.digest });
});

afterAll(async () => {
  await sidecar?.close();
  await upstream?.close();
  await rm(dir, { recursive: true, force: true });
});

describe('configuration reload', () => {
  it('applies a valid change without dropping an open session, and refuses an invalid one', async () => {
    const client = new Client({ name: 'reload', version: '1' });
    await client.connect(
      new StreamableHTTPClientTransport(new URL(sidecar.url), {
        requestInit: { headers: { 'x-api-key': KEYS.alice } },
      }),
    );
    const names = async () => (await client.listTools({ cursor: '0' })).tools.map((t) => t.name);
    expect(await names()).toEqual(['alpha']);

    await publish(withTools(['alpha', 'beta']));
    await eventually(async () => (await names()).includes('beta'));
    expect(await metric('portcullis_sidecar_config_last_reload_success')).toBe(1);

    await publish('apiVersion: sidecar.portcullis.dev/v1alpha1\nkind: SidecarConfig\nserver: { name: 42 }\n');
    await eventually(async () => (await metric('portcullis_sidecar_config_last_reload_success')) === 0);
    expect(await names()).toEqual(['alpha', 'beta']);
    expect(await metric('portcullis_sidecar_config_reloads_total{result="failure"}')).toBeGreaterThanOrEqual(
      1,
    );

    // rules that pass the schema but not the policy compiler are refused too
    await publish(
      stringify(
        rawConfig({
          upstream: { transport: 'streamable-http', url: upstream.url },
          rules: [
            allow('alice', { subjects: [{ user: 'alice' }], tools: ['alpha'], when: 'arguments.x ==' }),
          ],
        }),
      ),
    );
    await new Promise((r) => setTimeout(r, 400));
    expect(await names()).toEqual(['alpha', 'beta']);
    expect(await metric('portcullis_sidecar_config_last_reload_success')).toBe(0);
    await client.close();
  });
});
