import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

// Reads the PromQL out of the chart's Grafana dashboards, for the tests that check it: every
// panel target's expression, every annotation's and every query variable's metric, Grafana's variables replaced by
// values Prometheus accepts, and the metric names an expression selects.

export const DASHBOARD_DIR = join(import.meta.dirname, '..', 'portcullis', 'dashboards');

export interface DashboardQuery {
  dashboard: string;
  /** Panel title, `annotation <name>` or `variable <name>`. */
  panel: string;
  refId: string;
  /** As written in the dashboard. */
  expr: string;
  /** Grafana variables replaced: ready for Prometheus. */
  promql: string;
}

interface Target {
  refId: string;
  expr?: string;
}
interface Panel {
  type: string;
  title: string;
  targets?: Target[];
  panels?: Panel[];
}
export interface Dashboard {
  uid: string;
  title: string;
  tags: string[];
  links: { type: string; tags?: string[] }[];
  panels: Panel[];
  templating: { list: { name: string; type: string; query?: string | { query: string } }[] };
  annotations: { list: { name: string; expr?: string }[] };
}

export function loadDashboards(dir = DASHBOARD_DIR): Map<string, Dashboard> {
  const out = new Map<string, Dashboard>();
  for (const f of readdirSync(dir)
    .filter((n) => n.endsWith('.json'))
    .sort()) {
    out.set(f, JSON.parse(readFileSync(join(dir, f), 'utf8')) as Dashboard);
  }
  return out;
}

// Built-in interval variables first; every other variable is a multi-value label filter used as
// `label=~"$var"`, so "all" (.*) stands for it.
const BUILTINS: [RegExp, string][] = [
  [/\$__rate_interval|\$\{__rate_interval\}/g, '1m'],
  [/\$__interval|\$\{__interval\}/g, '30s'],
  [/\$__range|\$\{__range\}/g, '5m'],
];

export function substituteVariables(expr: string): string {
  let out = expr;
  for (const [re, value] of BUILTINS) out = out.replace(re, value);
  return out.replace(/\$\{?[A-Za-z_]\w*\}?/g, '.*');
}

/** `label_values(selector, label)` of a query variable: the selector. */
function variableSelector(query: string): string | undefined {
  return /^label_values\((.*),\s*\w+\)$/.exec(query.trim())?.[1];
}

export function dashboardQueries(dashboards = loadDashboards()): DashboardQuery[] {
  const out: DashboardQuery[] = [];
  for (const [file, d] of dashboards) {
    const walk = (panels: Panel[]) => {
      for (const p of panels) {
        for (const t of p.targets ?? []) {
          if (t.expr !== undefined)
            out.push({
              dashboard: file,
              panel: p.title,
              refId: t.refId,
              expr: t.expr,
              promql: substituteVariables(t.expr),
            });
        }
        if (p.panels) walk(p.panels);
      }
    };
    walk(d.panels);
    for (const a of d.annotations.list) {
      if (a.expr === undefined) continue;
      out.push({
        dashboard: file,
        panel: `annotation ${a.name}`,
        refId: a.name,
        expr: a.expr,
        promql: substituteVariables(a.expr),
      });
    }
    for (const v of d.templating.list) {
      if (v.type !== 'query' || v.query === undefined) continue;
      const q = typeof v.query === 'string' ? v.query : v.query.query;
      const selector = variableSelector(q);
      if (selector === undefined) throw new Error(`${file}: variable ${v.name}: unsupported query ${q}`);
      out.push({
        dashboard: file,
        panel: `variable ${v.name}`,
        refId: v.name,
        expr: q,
        promql: substituteVariables(selector),
      });
    }
  }
  return out;
}

const KEYWORDS = new Set([
  'by',
  'without',
  'on',
  'ignoring',
  'group_left',
  'group_right',
  'offset',
  'bool',
  'and',
  'or',
  'unless',
  'inf',
  'nan',
  'atan2',
]);

/** The metric names an expression selects (functions, keywords, labels and literals left out). */
export function metricNames(promql: string): string[] {
  const bare = promql
    .replace(/"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|`[^`]*`/g, ' ')
    .replace(/\{[^}]*\}/g, ' ')
    .replace(/\[[^\]]*\]/g, ' ')
    .replace(/\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, ' ')
    .replace(/\b\d[\w.]*/g, ' ');
  const names = new Set<string>();
  for (const m of bare.matchAll(/[A-Za-z_:][\w:]*/g)) {
    const after = bare.slice((m.index ?? 0) + m[0].length).trimStart();
    if (after.startsWith('(') || KEYWORDS.has(m[0].toLowerCase())) continue;
    names.add(m[0]);
  }
  return [...names];
}
