import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runPlugin } from '../../support/plugin.ts';

// `kubectl portcullis policy test` as a CI job runs it: the example cases pass (exit 0), a case whose
// expectation is wrong fails with exit 1 naming the case and its line, and a policy whose CEL does
// not compile is reported at the line and column of the YAML file, before any case runs.

const EXAMPLES = join(import.meta.dirname, '..', '..', '..', 'examples');
const EXAMPLE_TEST = join(EXAMPLES, 'policy-tests', 'everything.policytest.yaml');

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'policy-test-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const POLICY = (when: string) => `apiVersion: portcullis.dev/v1alpha1
kind: McpPolicy
metadata: { name: payments, namespace: shop }
spec:
  servers: { matchLabels: { team: payments } }
  rules:
    - name: refunds-small
      action: allow
      subjects: [{ group: support }]
      tools: ["refund"]
      when: ${when}
`;

const TEST = (expectRefund: string) => `apiVersion: portcullis.dev/v1alpha1
kind: McpPolicyTest
policies: [policy.yaml]
servers: [{ name: payments, namespace: shop, labels: { team: payments } }]
cases:
  - name: support refunds 10
    principal: { user: sam, groups: [support] }
    tool: refund
    arguments: { amount: 10 }
    expect: { decision: allow, rule: refunds-small }
  - name: support refunds 5000
    principal: { user: sam, groups: [support] }
    tool: refund
    arguments: { amount: 5000 }
    expect: { decision: ${expectRefund} }
`;

async function suite(policy: string, test: string): Promise<string> {
  await writeFile(join(dir, 'policy.yaml'), policy);
  await writeFile(join(dir, 'test.yaml'), test);
  return join(dir, 'test.yaml');
}

describe('policy test', () => {
  it('runs every case of the examples and exits 0', async () => {
    const r = await runPlugin(['policy', 'test', EXAMPLE_TEST]);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    const cases = (await readFile(EXAMPLE_TEST, 'utf8')).match(/^ {2}- name: /gm) ?? [];
    expect(cases.length).toBeGreaterThan(5);
    expect(r.stdout.match(/^ {2}ok {4}/gm)).toHaveLength(cases.length);
    expect(r.stdout).toContain(`${cases.length} passed, 0 failed`);
    expect(r.stdout).toContain('deny by rule no-env of default/guardrails');
  });

  it('decides CEL over the arguments: a case expecting the wrong decision fails with exit 1 and its line', async () => {
    const file = await suite(POLICY("'arguments.amount <= 100'"), TEST('allow'));
    const r = await runPlugin(['policy', 'test', file]);
    expect(r.code, r.stderr).toBe(1);
    expect(r.stdout).toMatch(
      /^ {2}ok {4}support refunds 10: allow by rule refunds-small of shop\/payments$/m,
    );
    expect(r.stdout).toContain(
      `  FAIL  support refunds 5000 (${file}:11:5): expected allow, got deny (no rule allows this caller to use this tool)`,
    );
    expect(r.stdout).toContain('1 passed, 1 failed');
  });

  it('passes when the expectation is right (the same files, exit 0)', async () => {
    const file = await suite(POLICY("'arguments.amount <= 100'"), TEST('deny'));
    const r = await runPlugin(['policy', 'test', '-q', file]);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(r.stdout.trim()).toBe('2 passed, 0 failed');
  });

  it.each([
    // one-line quoted: the column of the bad token in the file
    ["'arguments.amount <= 100 &&& true'", 11, 40, 'Unexpected character: &'],
    // block literal: the CEL line maps to a file line, indentation added
    ['|\n        has(arguments.amount) &&\n          arguments.amount =< 100', 13, 28, 'Unexpected'],
  ])(
    'invalid CEL %j is reported at its line and column of the YAML file, exit 1',
    async (when, line, column, msg) => {
      const file = await suite(POLICY(when), TEST('deny'));
      const r = await runPlugin(['policy', 'test', file]);
      expect(r.code).toBe(1);
      const policyFile = join(dir, 'policy.yaml');
      expect(r.stderr).toContain(
        `${policyFile}:${line}:${column}: policy shop/payments, rule refunds-small: when: ${msg}`,
      );
      expect(r.stderr).toContain('no case was run');
      expect(r.stdout).toBe('');
    },
  );

  it('a test file that breaks its schema is reported at the field, exit 1', async () => {
    const file = await suite(POLICY("'true'"), TEST('maybe'));
    const r = await runPlugin(['policy', 'test', file]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`${file}:15:25: /cases/1/expect/decision`);
  });

  it('a file that is not YAML exits 2 with its position', async () => {
    await writeFile(join(dir, 'broken.yaml'), 'kind: [unclosed\n');
    const r = await runPlugin(['policy', 'test', join(dir, 'broken.yaml')]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/broken\.yaml:\d+:\d+: /);
  });
});
