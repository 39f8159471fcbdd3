import { spawn } from 'node:child_process';
import { mkdir, readdir, readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

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
  /** At least one successful check and no failed one (the suite's own ✓). */
  readonly passed: boolean;
  readonly checks: readonly Check[];
}

export type SuiteResult = ReadonlyMap<string, ScenarioResult>;

export function conformanceCli(): string {
  const require = createRequire(import.meta.url);
  const pkg = require.resolve('@modelcontextprotocol/conformance/package.json');
  return join(dirname(pkg), 'dist', 'index.js');
}

/** Runs every server scenario (suite "all": active and pending) against url, results in outDir. */
export async function runServerSuite(
  url: string,
  opts: { outDir: string; suite?: 'active' | 'all'; timeoutMs?: number },
): Promise<SuiteResult> {
  await mkdir(opts.outDir, { recursive: true });
  const args = [conformanceCli(), 'server', '--url', url, '--suite', opts.suite ?? 'all', '-o', opts.outDir];
  const output = await new Promise<string>((resolve, reject) => {
    const child = spawn(process.execPath, args, { cwd: opts.outDir, stdio: ['ignore', 'pipe', 'pipe'] });
    let text = '';
    const keep = (chunk: Buffer) => {
      text = (text + chunk.toString()).slice(-20_000);
    };
    child.stdout.on('data', keep);
    child.stderr.on('data', keep);
    const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 120_000);
    child.once('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    // Exit code 1 only means some scenario failed; the checks files say which.
    child.once('exit', (_code, signal) => {
      clearTimeout(timer);
      if (signal === 'SIGKILL') reject(new Error(`conformance suite timed out against ${url}:\n${text}`));
      else resolve(text);
    });
  });
  const results = await readResults(opts.outDir);
  if (results.size === 0) throw new Error(`conformance suite wrote no results for ${url}:\n${output}`);
  return results;
}

// Result directories are named server-<scenario>-<ISO timestamp with '-' for ':' and '.'>.
const RESULT_DIR = /^server-(.+)-\d{4}-\d{2}-\d{2}T\d{2}-\d{2}-\d{2}-\d{3}Z$/;

async function readResults(outDir: string): Promise<SuiteResult> {
  const results = new Map<string, ScenarioResult>();
  for (const entry of (await readdir(outDir)).sort()) {
    const scenario = RESULT_DIR.exec(entry)?.[1];
    if (scenario === undefined) continue;
    const raw = JSON.parse(await readFile(join(outDir, entry, 'checks.json'), 'utf8')) as Check[];
    const checks = raw.map(({ id, status, errorMessage }) => ({
      id,
      status,
      ...(errorMessage ? { errorMessage } : {}),
    }));
    results.set(scenario, { scenario, passed: scenarioPassed(checks), checks });
  }
  return results;
}

export function scenarioPassed(checks: readonly Check[]): boolean {
  return checks.some((c) => c.status === 'SUCCESS') && !checks.some((c) => c.status === 'FAILURE');
}

export interface Comparison {
  readonly rows: readonly { scenario: string; direct: string; proxied: string }[];
  /** Scenarios that pass directly but not through the proxy. */
  readonly lostScenarios: readonly string[];
  /** 'scenario/check: error' for checks that succeed directly but not through the proxy. */
  readonly lostChecks: readonly string[];
  /** Scenarios that fail directly and pass through the proxy (the proxy adds a protection). */
  readonly gainedScenarios: readonly string[];
}

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
      if (check.status !== 'SUCCESS') continue;
      const other = through.get(check.id);
      if (other?.status === 'SUCCESS') continue;
      lostChecks.push(`${scenario}/${check.id}: ${other ? (other.errorMessage ?? other.status) : 'not run'}`);
    }
  }
  return { rows, lostScenarios, lostChecks, gainedScenarios };
}

function summary(result: ScenarioResult | undefined): string {
  if (!result) return 'not run';
  const ok = result.checks.filter((c) => c.status === 'SUCCESS').length;
  const failed = result.checks.filter((c) => c.status === 'FAILURE').length;
  return `${result.passed ? 'pass' : 'FAIL'} (${ok} ok, ${failed} failed)`;
}

/** A fixed-width table of both runs, for the test log. */
export function formatComparison(title: string, comparison: Comparison): string {
  const w = Math.max(8, ...comparison.rows.map((r) => r.scenario.length));
  const line = (a: string, b: string, c: string) => `${a.padEnd(w)}  ${b.padEnd(26)}  ${c}`;
  return [
    title,
    line('scenario', 'direct', 'through the sidecar'),
    ...comparison.rows.map((r) => line(r.scenario, r.direct, r.proxied)),
  ].join('\n');
}
