import { describe, expect, it } from 'vitest';
import { runPlugin } from '../../support/plugin.ts';

// `kubectl portcullis` itself: the command list from the registry, per-command help, and exit code 2
// for anything it cannot run, with a message on stderr that points at --help.

describe('kubectl portcullis', () => {
  it('--help lists every command and the exit codes, exit 0', async () => {
    const r = await runPlugin(['--help']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^Usage: kubectl portcullis COMMAND/);
    expect(r.stdout).toMatch(/^ {2}policy test\s+Run policy test cases/m);
    expect(r.stdout).toContain('Exit codes: 0 yes / done, 1 no (denied, a test failed), 2 error.');
  });

  it('a command --help shows its synopsis and the global flags, exit 0', async () => {
    const r = await runPlugin(['policy', 'test', '--help']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^Usage: kubectl portcullis policy test FILE\.\.\./);
    expect(r.stdout).toMatch(/^ {2}-n, --namespace NS/m);
  });

  it.each([
    [[], 'Usage: kubectl portcullis COMMAND'],
    [['frobnicate'], "unknown command 'frobnicate'"],
    [['policy', 'test', '--bogus'], "Unknown option '--bogus'"],
    [['policy', 'test'], 'name at least one McpPolicyTest file'],
  ])('%j exits 2 with %j on stderr', async (args, message) => {
    const r = await runPlugin(args);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(message);
    expect(r.stdout).toBe('');
  });
});
