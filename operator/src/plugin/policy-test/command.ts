import type { Command } from '../shared/command.ts';
import { UsageError } from '../shared/command.ts';
import { EXIT } from '../shared/output.ts';
import { YamlSourceError } from '../shared/yaml-source.ts';
import { runCase } from './evaluate.ts';
import { loadSuites } from './load.ts';

// `kubectl portcullis policy test FILE...`: runs the test cases of McpPolicyTest files offline, over
// the rules the operator would render for each server, with the sidecar's own compiler and decision.
// Exit 0 when every case passes, 1 when a case fails or a policy is invalid, 2 when a file cannot
// be read.

export const policyTestCommand: Command = {
  name: 'policy test',
  summary: 'Run policy test cases (McpPolicyTest files) offline; for CI before apply.',
  usage: [
    'policy test FILE... [-q]',
    '',
    'Runs the cases of each McpPolicyTest file against the policies it names, exactly as the sidecar',
    'decides: same rendering of rules, same CEL compiler, same decision. Policies that do not compile',
    '(CEL, patterns, subjects) are reported as FILE:LINE:COLUMN.',
    '',
    'Flags:',
    '  -q, --quiet   Print failures only.',
  ].join('\n'),
  options: { quiet: { type: 'boolean', short: 'q' } },
  async run({ positionals, values, out }) {
    if (positionals.length === 0) throw new UsageError('name at least one McpPolicyTest file');
    let loaded: Awaited<ReturnType<typeof loadSuites>>;
    try {
      loaded = await loadSuites(positionals);
    } catch (err) {
      if (err instanceof YamlSourceError) {
        out.err(err.message);
        return EXIT.error;
      }
      throw err;
    }
    if (!loaded.ok) {
      for (const p of loaded.problems) out.err(p);
      out.err(`${loaded.problems.length} problem(s); no case was run`);
      return EXIT.no;
    }
    let passed = 0;
    let failed = 0;
    for (const suite of loaded.suites) {
      if (values.quiet !== true) out.out(suite.file.file);
      suite.test.cases.forEach((c, i) => {
        const result = runCase(c, suite.servers, suite.policies);
        if (result.ok) {
          passed++;
          if (values.quiet !== true) out.out(`  ok    ${result.name}: ${result.detail}`);
          return;
        }
        failed++;
        const { line, column } = suite.file.positionOf(['cases', i]);
        out.out(`  FAIL  ${result.name} (${suite.file.file}:${line}:${column}): ${result.detail}`);
      });
    }
    out.out(`${passed} passed, ${failed} failed`);
    return failed === 0 ? EXIT.ok : EXIT.no;
  },
};
