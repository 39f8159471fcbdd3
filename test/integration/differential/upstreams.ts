import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '../../../sidecar/src/quickstart/everything.ts';
import { ensureGoUpstream } from '../../fixtures/upstreams/install.ts';
import { startChild } from '../../support/child-process.ts';
import { readCompleteLines } from '../../support/ndjson.ts';
import { pythonWithMcp } from '../../support/python-venv.ts';
import type { Executed } from './invariant.ts';

// The three real upstreams of the differential corpus, each a child process on a loopback port that
// appends every call it executed to its own record file (test/fixtures/upstreams/).

export const UPSTREAM_KINDS = ['ts', 'go', 'python'] as const;
export type UpstreamKind = (typeof UPSTREAM_KINDS)[number];

export interface DemoUpstream {
  readonly kind: UpstreamKind;
  readonly url: string;
  /** Every call executed so far, in order. */
  executed(): Promise<Executed[]>;
  close(): Promise<void>;
}

const FIXTURES = join(import.meta.dirname, '..', '..', 'fixtures', 'upstreams');

async function command(kind: UpstreamKind): Promise<[string, string[]]> {
  switch (kind) {
    case 'ts':
      return [process.execPath, [join(FIXTURES, 'ts', 'server.ts')]];
    case 'go':
      return [await ensureGoUpstream(), []];
    case 'python':
      return [await pythonWithMcp(), [join(FIXTURES, 'python', 'server.py')]];
  }
}

export async function startDemoUpstream(kind: UpstreamKind): Promise<DemoUpstream> {
  const [cmd, args] = await command(kind);
  const dir = await mkdtemp(join(tmpdir(), `portcullis-diff-${kind}-`));
  const recordFile = join(dir, 'executed.jsonl');
  await writeFile(recordFile, '');
  const port = await freePort();
  const child = startChild(`${kind} upstream`, cmd, args, {
    env: { ...process.env, RECORD_FILE: recordFile, PORT: String(port) },
    stdout: 'ignore',
  });
  const base = `http://127.0.0.1:${port}`;
  try {
    await child.waitUntilServing(`${base}/healthz`, { timeoutMs: 60_000 });
  } catch (err) {
    await child.stop();
    throw err;
  }
  return {
    kind,
    url: `${base}/mcp`,
    executed: () => readCompleteLines<Executed>(recordFile),
    async close() {
      await child.stop();
      await rm(dir, { recursive: true, force: true });
    },
  };
}
