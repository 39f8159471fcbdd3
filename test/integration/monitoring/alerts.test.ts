import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { promtool } from '../../support/prometheus.ts';

// The alert rules (charts/portcullis/rules/portcullis-alerts.yaml, also the chart's PrometheusRule)
// checked by Debian's promtool, and their unit tests (alerts.promtool.yaml) run by it: each alert
// has a case that fires it and one where it stays quiet.

const ROOT = new URL('../../../', import.meta.url).pathname;
const RULES = join(ROOT, 'charts', 'portcullis', 'rules', 'portcullis-alerts.yaml');
const TESTS = join(ROOT, 'test', 'integration', 'monitoring', 'alerts.promtool.yaml');

interface RulesFile {
  groups: { name: string; rules: { alert?: string; record?: string; expr: string }[] }[];
}
interface PromtoolTests {
  tests: { name: string; alert_rule_test?: { alertname: string; exp_alerts: unknown[] }[] }[];
}

const alertNames = async () =>
  ((parse(await readFile(RULES, 'utf8')) as RulesFile).groups ?? [])
    .flatMap((g) => g.rules)
    .map((r) => r.alert)
    .filter((a): a is string => a !== undefined);

describe('Portcullis alerts', () => {
  it('pass promtool check rules', async () => {
    const result = await promtool(['check', 'rules', RULES]);
    expect(result.output).toMatch(/SUCCESS: 31 rules found/);
    expect(result.ok).toBe(true);
  });

  it('cover the sidecars, the audit trail, the service level objectives and the operator', async () => {
    expect((await alertNames()).sort()).toEqual([
      'PortcullisAuditEventsDropped',
      'PortcullisAuditQueueNearFull',
      'PortcullisAuthnFailureSpike',
      'PortcullisConfigRejected',
      'PortcullisDenySpike',
      'PortcullisErrorBudgetBurn',
      'PortcullisErrorBudgetBurnSlow',
      'PortcullisLatencyBudgetBurn',
      'PortcullisLatencyBudgetBurnSlow',
      'PortcullisMcpServerNotReady',
      'PortcullisOperatorDown',
      'PortcullisOperatorNoLeader',
      'PortcullisReconcileErrors',
      'PortcullisSidecarDown',
      'PortcullisToolDefinitionDrift',
      'PortcullisToolDefinitionHeld',
    ]);
  });

  it('select no scrape job by name (fullnameOverride renames jobs)', async () => {
    const rules = (parse(await readFile(RULES, 'utf8')) as RulesFile).groups.flatMap((g) => g.rules);
    for (const r of rules) expect(r.expr, r.alert ?? r.record).not.toMatch(/\bjob\s*=~?/);
  });

  it('each have a promtool test that fires them and one that does not', async () => {
    const tests = (parse(await readFile(TESTS, 'utf8')) as PromtoolTests).tests;
    const cases = tests.flatMap((t) => t.alert_rule_test ?? []);
    for (const alert of await alertNames()) {
      const mine = cases.filter((c) => c.alertname === alert);
      expect(
        mine.some((c) => c.exp_alerts.length > 0),
        `${alert} fires`,
      ).toBe(true);
      expect(
        mine.some((c) => c.exp_alerts.length === 0),
        `${alert} stays quiet`,
      ).toBe(true);
    }
  });

  it('pass promtool test rules', async () => {
    const result = await promtool(['test', 'rules', TESTS]);
    expect(result.output).toMatch(/SUCCESS/);
    expect(result.ok).toBe(true);
  });

  it('promtool refuses a rule with a PromQL error (the check is real)', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'portcullis-rules-'));
    const bad = join(dir, 'bad.yaml');
    await writeFile(
      bad,
      'groups:\n  - name: bad\n    rules:\n      - alert: Bad\n        expr: sum by (x (up)\n',
    );
    const result = await promtool(['check', 'rules', bad]);
    expect(result.ok).toBe(false);
    expect(result.output).toMatch(/parse error|unexpected/i);
  });
});
