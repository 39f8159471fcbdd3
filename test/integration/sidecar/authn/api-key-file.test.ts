import { mkdtemp, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { hashApiKey } from '../../../../sidecar/src/authn/api-keys.ts';
import { type Authenticator, createAuthenticator } from '../../../../sidecar/src/authn/authenticator.ts';
import { authentication, CANONICAL_URI } from './config.ts';

// API keys from a file on disk, replaced the way Kubernetes updates a mounted Secret (write a new
// file, rename it over the old one).

let dir: string;
let file: string;
let authn: Authenticator | undefined;

const keysYaml = (key: string, id: string) =>
  `- id: ${id}\n  sha256: ${hashApiKey(key)}\n  subject: svc-${id}\n`;

async function replaceFile(text: string) {
  const next = join(dir, `.next-${Math.random()}`);
  await writeFile(next, text);
  await rename(next, file);
}

async function until(what: string, check: () => Promise<boolean>) {
  for (let i = 0; i < 200; i++) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`timed out waiting for ${what}`);
}

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'apikeys-'));
  file = join(dir, 'keys.yaml');
});
afterEach(async () => {
  authn?.close();
  await rm(dir, { recursive: true, force: true });
});

describe('apiKeysFile', () => {
  it('loads keys at start and picks up a replaced file', async () => {
    await writeFile(file, keysYaml('first-key', 'first'));
    authn = createAuthenticator(authentication({ apiKeysFile: file }), {
      canonicalUri: CANONICAL_URI,
      apiKeysFilePollMs: 50,
    });
    const a = authn;
    expect((await a.authenticate({ apiKey: 'first-key' })).ok).toBe(true);

    await replaceFile(keysYaml('second-key', 'second'));
    await until('the second key', async () => (await a.authenticate({ apiKey: 'second-key' })).ok);
    expect((await a.authenticate({ apiKey: 'first-key' })).ok).toBe(false);
  });

  it('keeps the last good keys when the new file is invalid', async () => {
    await writeFile(file, keysYaml('good-key', 'good'));
    const logged: string[] = [];
    const logger = { info() {}, warn() {}, error: (_o: unknown, msg: string) => logged.push(msg) };
    authn = createAuthenticator(authentication({ apiKeysFile: file }), {
      canonicalUri: CANONICAL_URI,
      apiKeysFilePollMs: 50,
      logger: logger as never,
    });
    const a = authn;
    await replaceFile('- id: broken\n  sha256: not-hex\n  subject: s\n');
    await until('the refusal to be logged', async () => logged.length > 0);
    expect(logged[0]).toMatch(/refused/);
    expect((await a.authenticate({ apiKey: 'good-key' })).ok).toBe(true);
  });

  it('an unreadable file at start refuses the configuration', () => {
    expect(() =>
      createAuthenticator(authentication({ apiKeysFile: join(dir, 'missing.yaml') }), {
        canonicalUri: CANONICAL_URI,
      }),
    ).toThrow(/missing\.yaml/);
  });
});
