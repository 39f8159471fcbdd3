import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CORPUS } from './corpus.ts';
import { type AuditEvent, describeEvent, type Executed, unvouched } from './invariant.ts';
import { type EntryRun, runCorpus, startCorpusSidecar } from './run-corpus.ts';
import { type DemoUpstream, startDemoUpstream, UPSTREAM_KINDS } from './upstreams.ts';

// The differential corpus against three real upstreams with different parsers (the MCP TypeScript
// SDK's express app, the Go SDK, Python FastMCP): for every entry, the upstream never executes a
// call that the audit log does not show as allowed under that same name, URI and arguments.

describe.each(UPSTREAM_KINDS)('through the sidecar to the %s upstream', (kind) => {
  let upstream: DemoUpstream;
  let runs: EntryRun[] = [];
  let events: AuditEvent[] = [];
  let lateExecutions: Executed[] = [];
  const verdicts = new Map<string, { unvouched: Executed[]; audited: string[] }>();

  beforeAll(async () => {
    upstream = await startDemoUpstream(kind);
    const sidecar = await startCorpusSidecar(upstream);
    runs = await runCorpus(sidecar.url, upstream, CORPUS);
    events = await sidecar.finish();
    // Anything executed after its entry ended would have escaped the attribution: it is checked too.
    lateExecutions = (await upstream.executed()).slice(runs.reduce((n, r) => n + r.executed.length, 0));
    const spent = new Set<number>();
    for (const run of runs) {
      // Only the events of the entry's own session vouch for what it executed.
      const own = events.filter((e) => e.session === run.session);
      verdicts.set(`${run.entry.group}: ${run.entry.name}`, {
        unvouched: unvouched(run.executed, own, spent),
        audited: own
          .filter((e) => e.method !== 'initialize' && !e.method.startsWith('notifications/'))
          .map(describeEvent),
      });
    }
    lateExecutions = unvouched(lateExecutions, events, spent);
  }, 300_000);

  afterAll(async () => {
    await upstream?.close();
  });

  it('the corpus reached the upstream (the allowed baseline calls executed)', () => {
    const baseline = runs.filter((r) => r.entry.group === 'baseline').flatMap((r) => r.executed);
    expect(baseline.map((e) => e.name ?? e.uri)).toEqual([
      'echo',
      'get-env',
      'add',
      'demo://res/public/x',
      'greet',
    ]);
    expect(events.length).toBeGreaterThan(CORPUS.length * 2);
  });

  it.each(CORPUS.map((e) => [`${e.group}: ${e.name}`]))(
    '%s: nothing executed that the audit did not allow',
    (key) => {
      const verdict = verdicts.get(key);
      expect(verdict, 'entry ran').toBeDefined();
      expect(
        verdict?.unvouched,
        `executed by ${kind}, audited as: ${JSON.stringify(verdict?.audited)}`,
      ).toEqual([]);
    },
  );

  it('nothing executed after its entry ended without an allowed audit event', () => {
    expect(lateExecutions).toEqual([]);
  });
});
