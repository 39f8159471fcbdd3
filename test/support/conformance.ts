import { mkdir, readdir, readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { type Run, runToEnd } from './child-process.ts';

// Runs the MCP conformance suite's server scenarios (@modelcontextprotocol/conformance) against a
// URL and reads its per-scenario checks.json files, then compares two runs scenario by scenario and
// check by check. The suite has no option for request headers: callers that need credentials put a
// header-adding relay in front of the target.

export type CheckStatus = 'SUCCESS' | 'FAILURE' | 'WARNING' | 'INFO';

export interface Check {
  readonly id: string;
  readonly status: CheckStatus;
  readonly errorMessage?: string;
}

export interface ScenarioResult {
  readonly scenario: string;
  /** No failed check (the suite's own ✓; warnings allowed). */
  readonly passed: boolean;
  readonly checks: readonly Check[];
}

export type SuiteResult = ReadonlyMap<string, ScenarioResult>;

export function conformanceCli(): string {
  const require = createRequire(import.meta.url);
  const pkg = require.resolve('@modelcontextprotocol/conformance/package.json');
  return join(dirname(pkg), 'dist', 'index.js');
}

/** The suite's CLI; a non-zero exit only means some check failed (the checks files say which). */
function runCli(args: readonly string[], cwd: string, timeoutMs: number): Promise<Run> {
  return runToEnd(process.execPath, [conformanceCli(), ...args], { cwd, timeoutMs });
}

/** The server scenarios the installed suite knows (active and pending). */
export async function serverScenarios(cwd: string): Promise<string[]> {
  const { output } = await runCli(['list'], cwd, 30_000);
  const section = output.split(/^Server scenarios.*$/m)[1]?.split(/^\S.*scenarios.*$/m)[0] ?? '';
  return [...section.matchAll(/^\s+- ([a-z0-9-]+)/gm)].map((m) => m[1] as string);
}

/**
 * Runs every server scenario against url: the whole suite in one process first (fast); if that hangs
 * (a server request whose answer never arrives, say), the scenarios it did not finish run one by
 * one with a time limit each, so a hang fails its own scenario and names it.
 */
export async function runServerSuite(
  url: string,
  opts: { outDir: string; suiteTimeoutMs?: number; scenarioTimeoutMs?: number },
): Promise<SuiteResult> {
  await mkdir(opts.outDir, { recursive: true });
  const scenarios = await serverScenarios(opts.outDir);
  if (scenarios.length === 0) throw new Error('the conformance suite lists no server scenarios');
  const whole = ['server', '--url', url, '--suite', 'all', '-o', opts.outDir];
  const { timedOut } = await runCli(whole, opts.outDir, opts.suiteTimeoutMs ?? 60_000);
  const results = new Map(await readResults(opts.outDir));
  const scenarioTimeoutMs = opts.scenarioTimeoutMs ?? 15_000;
  for (const scenario of scenarios) {
    if (results.has(scenario)) continue;
    let errorMessage = 'wrote no results';
    if (timedOut) {
      const dir = join(opts.outDir, 'one-by-one');
      const args = ['server', '--url', url, '--scenario', scenario, '-o', dir];
      await mkdir(dir, { recursive: true });
      const run = await runCli(args, dir, scenarioTimeoutMs);
      const one = (await readResults(dir)).get(scenario);
      if (one && !run.timedOut) {
        results.set(scenario, one);
        continue;
      }
      if (run.timedOut) errorMessage = `timed out after ${scenarioTimeoutMs} ms`;
    }
    results.set(scenario, {
      scenario,
      passed: false,
      checks: [{ id: scenario, status: 'FAILURE', errorMessage }],
    });
  }
  return results;
}

// Result directories are named server-<scenario>-<ISO timestamp with '-' for ':' and '.'>.
const RESULT_DIR = /^server-(.+)-\d{4}-\d{2}-\d{2}T\d{2}-\d{2}-\d{2}-\d{3}Z$/;

async function readResults(outDir: string): Promise<SuiteResult> {
  const results = new Map<string, ScenarioResult>();
  for (const entry of (await readdir(outDir)).sort()) {
    const scenario = RESULT_DIR.exec(entry)?.[1];
    if (scenario === undefined) continue;
    // A scenario killed mid-run leaves its directory without checks.json.
    const text = await readFile(join(outDir, entry, 'checks.json'), 'utf8').catch(() => undefined);
    if (text === undefined) continue;
    const raw = JSON.parse(text) as Check[];
    const checks = raw.map(({ id, status, errorMessage }) => ({
      id,
      status,
      ...(errorMessage ? { errorMessage } : {}),
    }));
    results.set(scenario, { scenario, passed: scenarioPassed(checks), checks });
  }
  return results;
}

/** As the suite's own summary: a scenario passes when none of its checks failed. */
export function scenarioPassed(checks: readonly Check[]): boolean {
  return checks.length > 0 && !checks.some((c) => c.status === 'FAILURE');
}

export interface Comparison {
  readonly rows: readonly { scenario: string; direct: string; proxied: string }[];
  /** Scenarios that pass directly but not through the proxy. */
  readonly lostScenarios: readonly string[];
  /** 'scenario/check: error' for checks that come out worse through the proxy than directly. */
  readonly lostChecks: readonly string[];
  /** Scenarios that fail directly and pass through the proxy (the proxy adds a protection). */
  readonly gainedScenarios: readonly string[];
}

// SUCCESS beats WARNING beats FAILURE; INFO checks are a log of the exchange, not a verdict.
const RANK: Record<CheckStatus, number> = { SUCCESS: 2, WARNING: 1, INFO: 0, FAILURE: 0 };

/** Compares a run against the server directly with a run through the proxy. Pure. */
export function compareSuites(direct: SuiteResult, proxied: SuiteResult): Comparison {
  const names = [...new Set([...direct.keys(), ...proxied.keys()])].sort();
  const rows = names.map((scenario) => ({
    scenario,
    direct: summary(direct.get(scenario)),
    proxied: summary(proxied.get(scenario)),
  }));
  const lostScenarios = names.filter(
    (n) => direct.get(n)?.passed === true && proxied.get(n)?.passed !== true,
  );
  const gainedScenarios = names.filter(
    (n) => direct.get(n)?.passed !== true && proxied.get(n)?.passed === true,
  );
  const lostChecks: string[] = [];
  for (const [scenario, result] of direct) {
    const through = new Map((proxied.get(scenario)?.checks ?? []).map((c) => [c.id, c]));
    for (const check of result.checks) {
      const other = through.get(check.id);
      if (RANK[check.status] === 0 || RANK[other?.status ?? 'FAILURE'] >= RANK[check.status]) continue;
      lostChecks.push(`${scenario}/${check.id}: ${other ? (other.errorMessage ?? other.status) : 'not run'}`);
    }
  }
  return { rows, lostScenarios, lostChecks, gainedScenarios };
}

function summary(result: ScenarioResult | undefined): string {
  if (!result) return 'not run';
  const ok = result.checks.filter((c) => c.status === 'SUCCESS').length;
  const failed = result.checks.filter((c) => c.status === 'FAILURE').length;
  const warned = result.checks.filter((c) => c.status === 'WARNING').length;
  return `${result.passed ? 'pass' : 'FAIL'} (${ok} ok, ${failed} failed${warned ? `, ${warned} warned` : ''})`;
}

/** A fixed-width table of both runs, for the test log. */
export function formatComparison(title: string, comparison: Comparison): string {
  const w = Math.max(8, ...comparison.rows.map((r) => r.scenario.length));
  const line = (a: string, b: string, c: string) => `${a.padEnd(w)}  ${b.padEnd(34)}  ${c}`;
  return [
    title,
    line('scenario', 'direct', 'through the sidecar'),
    ...comparison.rows.map((r) => line(r.scenario, r.direct, r.proxied)),
  ].join('\n');
}
