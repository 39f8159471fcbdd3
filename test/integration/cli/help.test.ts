import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { type Run, runToEnd } from '../../support/child-process.ts';

// The entry points as a user runs them (the sidecar, the quick start, the operator): `--help` prints one line per flag and per environment
// variable and exits 0 without starting anything; an unknown flag exits 2 with a message that says
// what was wrong. The help text is also checked against the sources, so a new flag or variable that
// is not documented fails here.

const ROOT = new URL('../../../', import.meta.url).pathname;
const ENTRY = {
  sidecar: join(ROOT, 'sidecar/src/main.ts'),
  quickstart: join(ROOT, 'sidecar/src/quickstart/main.ts'),
  operator: join(ROOT, 'operator/src/main.ts'),
} as const;
const SYNOPSIS = {
  sidecar: /^Usage: node sidecar\/src\/main\.ts --config FILE/,
  quickstart: /^Usage: npm start /,
  operator: /^Usage: node operator\/src\/main\.ts/,
} as const;
type Entry = keyof typeof ENTRY;

function run(entry: Entry, args: string[]): Promise<Run> {
  // No kubeconfig and no cluster: if --help started the operator, it would fail instead of exit 0.
  const env = { ...process.env, KUBECONFIG: join(ROOT, 'no-such-kubeconfig'), LOG_LEVEL: 'fatal' };
  return runToEnd(process.execPath, [ENTRY[entry], ...args], { env, timeoutMs: 20_000 });
}

/** Source files of a folder, recursively, but those under `except` (a subfolder). */
function sources(dir: string, except?: string): string[] {
  return readdirSync(join(ROOT, dir), { recursive: true, encoding: 'utf8' })
    .filter((f) => f.endsWith('.ts') && (except === undefined || !f.startsWith(`${except}/`)))
    .map((f) => readFileSync(join(ROOT, dir, f), 'utf8'));
}

const envNamesIn = (texts: string[]) =>
  [
    ...new Set(
      texts.flatMap((t) => [...t.matchAll(/\b(?:process\.)?env\.([A-Z][A-Z0-9_]+)/g)].map((m) => m[1])),
    ),
  ]
    .filter((n): n is string => n !== undefined)
    .sort();

describe.each([
  ['sidecar', ['--help']],
  ['sidecar', ['-h']],
  ['quickstart', ['--help']],
  ['quickstart', ['--stdio', '-h']],
  ['operator', ['--help']],
  ['operator', ['-h']],
  ['operator', ['--workers', '3', '--help']],
] as const)('%s %j', (entry, args) => {
  it('prints usage with flags and environment and exits 0', async () => {
    const r = await run(entry, [...args]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(SYNOPSIS[entry]);
    expect(r.stdout).toContain('\nFlags:\n');
    expect(r.stdout).toContain('\nEnvironment:\n');
    expect(r.stdout).toMatch(/^\s+(-h, )?--help\s+Print this help and exit\.$/m);
  });
});

describe.each([
  ['sidecar', ['--bogus'], "Unknown option '--bogus'"],
  ['sidecar', ['--config'], "Option '-c, --config <value>' argument missing"],
  ['sidecar', ['stray-positional'], "Unexpected argument 'stray-positional'"],
  ['sidecar', [], '--config FILE is required (npm start runs the quick start)'],
  ['sidecar', ['--stdio'], "Unknown option '--stdio'"],
  ['quickstart', ['--bogus'], "Unknown option '--bogus'"],
  ['quickstart', ['--config', 'x.yaml'], "Unknown option '--config'"],
  ['operator', ['--bogus'], "Unknown option '--bogus'"],
  [
    'operator',
    ['--sidecar-image', 'sidecar:1', '--workers', '0'],
    '--workers: expected an integer from 1 to 64',
  ],
] as const)('%s %j', (entry, args, message) => {
  it('exits 2 naming the fault and pointing at --help', async () => {
    const r = await run(entry, [...args]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`portcullis-${entry}: `);
    expect(r.stderr).toContain(message);
    expect(r.stderr).toContain('--help');
    expect(r.stdout).toBe('');
  });
});

/** The lines of a help section, each "  NAME  help". */
function section(help: string, title: string): string[] {
  const start = help.indexOf(`\n${title}:\n`);
  const rest = help.slice(start + title.length + 3);
  return rest.slice(0, rest.indexOf('\n\n')).split('\n');
}

describe('help lists what the code reads', () => {
  it('operator: every flag of manager/options.ts and every variable it or the kube client reads', async () => {
    const { stdout } = await run('operator', ['--help']);
    const options = readFileSync(join(ROOT, 'operator/src/manager/options.ts'), 'utf8');
    const block = options.slice(options.indexOf('options: {'), options.indexOf('},\n  });'));
    const flags = [...block.matchAll(/^\s+'?([a-z][a-z-]*)'?: \{ type:/gm)].map((m) => m[1]);
    expect(flags.length).toBeGreaterThan(10);
    const flagLines = section(stdout, 'Flags');
    for (const f of flags)
      expect(
        flagLines.some((l) => l.includes(`--${f} `)),
        `--${f}`,
      ).toBe(true);
    const envLines = section(stdout, 'Environment');
    const vars = envNamesIn(sources('operator/src'));
    expect(vars).toContain('PORTCULLIS_NAMESPACES');
    for (const v of vars)
      expect(
        envLines.some((l) => l.startsWith(`  ${v} `)),
        v,
      ).toBe(true);
  });

  it('sidecar: every variable its sources (but the quick start) read by name', async () => {
    const { stdout } = await run('sidecar', ['--help']);
    const envLines = section(stdout, 'Environment');
    const vars = envNamesIn(sources('sidecar/src', 'quickstart'));
    expect(vars).toEqual(expect.arrayContaining(['LOG_LEVEL', 'POD_NAME', 'OTEL_SERVICE_NAME']));
    for (const v of vars)
      expect(
        envLines.some((l) => l.startsWith(`  ${v} `)),
        v,
      ).toBe(true);
    for (const flag of ['--config FILE', '--help'])
      expect(section(stdout, 'Flags').filter((l) => l.includes(flag))).toHaveLength(1);
  });

  it('quick start: every variable its sources read by name, and the log level', async () => {
    const { stdout } = await run('quickstart', ['--help']);
    const envLines = section(stdout, 'Environment');
    const vars = envNamesIn(sources('sidecar/src/quickstart'));
    expect(vars).toEqual(expect.arrayContaining(['PORT', 'ADMIN_PORT', 'PORTCULLIS_API_KEY']));
    for (const v of [...vars, 'LOG_LEVEL'])
      expect(
        envLines.some((l) => l.startsWith(`  ${v} `)),
        v,
      ).toBe(true);
    for (const flag of ['--stdio', '--help'])
      expect(section(stdout, 'Flags').filter((l) => l.includes(flag))).toHaveLength(1);
  });
});

describe('operator that cannot reach a cluster', () => {
  it('logs one fatal line saying why and exits 1, without a stack trace on stderr', async () => {
    const r = await run('operator', ['--sidecar-image', 'sidecar:1']);
    expect(r.code).toBe(1);
    expect(r.stderr).toBe('');
    const lines = r.stdout.trim().split('\n');
    expect(lines).toHaveLength(1);
    const line = JSON.parse(lines[0] ?? '') as { level: number; msg: string; err: { message: string } };
    expect(line.level).toBe(60);
    expect(line.msg).toBe('cannot start');
    expect(line.err.message).toContain('no-such-kubeconfig');
  });
});
