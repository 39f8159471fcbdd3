import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { RunningSidecar } from '../../../sidecar/src/server/sidecar.ts';
import {
  allow,
  config,
  deny,
  initializeBody,
  KEYS,
  MCP_HEADERS,
  type Rule,
  sidecarFor,
} from '../../support/harness.ts';
import { readCompleteLines } from '../../support/ndjson.ts';
import type { CorpusEntry, Reply, Step } from './corpus.ts';
import type { AuditEvent, Executed } from './invariant.ts';
import type { DemoUpstream } from './upstreams.ts';

// Runs corpus entries through a real sidecar (file audit sink, arguments captured in full) in front of
// one of the demo upstreams, and collects for each entry what the upstream executed and, once the
// sidecar has flushed its sink, every audit event.

/** Allow every tool but get-env (unless for key HOME) and echo of "forbidden", add only up to 100; public resources; the greet prompt. */
export const POLICY_RULES: Rule[] = [
  allow('tools', { tools: ['*'] }),
  deny('get-env-only-home', { tools: ['get-env'], when: "!(has(arguments.key) && arguments.key == 'HOME')" }),
  deny('no-forbidden-echo', { tools: ['echo'], when: "arguments.message.contains('forbidden')" }),
  deny('small-sums', { tools: ['add'], when: 'arguments.a > 100' }),
  allow('public-resources', { resources: ['demo://res/public/*'] }),
  deny('secret-resources', { resources: ['demo://res/secret/*'] }),
  allow('greet', { prompts: ['greet'] }),
  deny('internal-prompt', { prompts: ['internal'] }),
];

/** The revision sessions negotiate unless an entry needs another (batches need 2025-03-26). */
const LATEST_PROTOCOL = '2025-06-18';

export interface CorpusSidecar {
  readonly url: string;
  /** The audit events written so far. */
  events(): Promise<AuditEvent[]>;
  /** Closes the sidecar (flushing its sink) and returns every audit event it wrote. */
  finish(): Promise<AuditEvent[]>;
}

export async function startCorpusSidecar(upstream: DemoUpstream): Promise<CorpusSidecar> {
  const dir = await mkdtemp(join(tmpdir(), 'portcullis-diff-audit-'));
  const file = join(dir, 'audit.ndjson');
  const sidecar: RunningSidecar = await sidecarFor(
    config({
      upstream: { transport: 'streamable-http', url: upstream.url },
      rules: POLICY_RULES,
      audit: {
        sinks: [{ type: 'file', path: file }],
        payloads: { capture: 'full', detectors: false, maxBytes: 1_048_576 },
      },
    }),
    undefined,
    { audit: 'config' },
  );
  const events = () => readCompleteLines<AuditEvent>(file);
  return {
    url: sidecar.url,
    events,
    async finish() {
      await sidecar.close();
      const all = await events();
      await rm(dir, { recursive: true, force: true });
      return all;
    },
  };
}

/** A session opened through the sidecar, and the protocol revision it negotiated. */
export interface Session {
  id: string;
  protocol: string;
}

export async function send(url: string, session: Session, step: Step): Promise<Reply> {
  const headers: Record<string, string> = {
    ...MCP_HEADERS,
    'x-api-key': KEYS.alice,
    'mcp-protocol-version': session.protocol,
    'mcp-session-id': session.id,
    ...step.headers,
  };
  const method = step.method ?? 'POST';
  // A GET stream stays open: its headers are the answer; the bound only ends a stream that sends none.
  const controller = new AbortController();
  const res = await fetch(url, {
    method,
    headers,
    ...(method === 'POST' ? { body: step.body ?? '' } : {}),
    signal: AbortSignal.any([controller.signal, AbortSignal.timeout(10_000)]),
  }).catch((err: unknown) => ({ status: 0, error: String(err) }) as const);
  if ('error' in res) return { status: 0, text: res.error };
  if (method === 'GET') {
    controller.abort();
    return { status: res.status, text: '' };
  }
  return { status: res.status, text: await res.text().catch((e: unknown) => String(e)) };
}

/** Opens a session as a well-behaved client would; an entry or a generated request runs inside it. */
export async function openSession(url: string, protocol = LATEST_PROTOCOL): Promise<Session> {
  const init = await fetch(url, {
    method: 'POST',
    headers: { ...MCP_HEADERS, 'x-api-key': KEYS.alice },
    body: initializeBody(1, protocol),
  });
  await init.text();
  const id = init.headers.get('mcp-session-id');
  if (init.status !== 200 || !id) throw new Error(`initialize through the sidecar: HTTP ${init.status}`);
  const session = { id, protocol };
  await send(url, session, { body: JSON.stringify({ jsonrpc: '2.0', method: 'notifications/initialized' }) });
  return session;
}

export async function closeSession(url: string, session: Session): Promise<void> {
  const res = await fetch(url, {
    method: 'DELETE',
    headers: { 'x-api-key': KEYS.alice, 'mcp-session-id': session.id },
  });
  await res.body?.cancel();
}

export interface EntryRun {
  entry: CorpusEntry;
  session: string;
  replies: Reply[];
  executed: Executed[];
}

/** Runs each entry in its own session and attributes to it what the upstream executed meanwhile. */
export async function runCorpus(
  sidecarUrl: string,
  upstream: DemoUpstream,
  corpus: readonly CorpusEntry[],
): Promise<EntryRun[]> {
  const runs: EntryRun[] = [];
  let seen = (await upstream.executed()).length;
  for (const entry of corpus) {
    const session = await openSession(sidecarUrl, entry.protocol);
    const replies: Reply[] = [];
    for (const s of entry.steps)
      replies.push(await send(sidecarUrl, session, typeof s === 'function' ? s(replies) : s));
    await closeSession(sidecarUrl, session);
    const all = await upstream.executed();
    runs.push({ entry, session: session.id, replies, executed: all.slice(seen) });
    seen = all.length;
  }
  return runs;
}
