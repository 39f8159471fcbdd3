import {
  type PinReport,
  type ReportedDefinition,
  readReports,
} from '../../../../sidecar/src/contract/index.ts';
import { ServerCondition, ServerReason } from '../../api/conditions.ts';
import {
  MAX_STATUS_CHANGES,
  MAX_STATUS_DEFINITIONS,
  MAX_STATUS_TEXT,
  type ObservedDefinition,
  type ToolsStatus,
} from '../../api/tools-status.ts';
import type { ConditionUpdate } from '../../reconcile/conditions.ts';

// status.tools and the ToolsPinned condition, purely from the sidecars' reports in the pins
// ConfigMap (sidecar/src/contract/pin-report.ts): the pods' observations merged per definition (the
// worst state any pod sees wins, so one pod holding a change is enough to show it), bounded, and
// the holds that are new since the last status, for one Event each.

type Mode = PinReport['mode'];
const RANK: Record<ReportedDefinition['state'], number> = { held: 0, observed: 1, pinned: 2 };
const keyOf = (d: { kind: string; name: string }) => `${d.kind}/${d.name}`;

/** Every pod's observations merged per definition, held and drifted ones first. */
export function mergeReports(reports: Iterable<PinReport>): ReportedDefinition[] {
  const merged = new Map<string, ReportedDefinition>();
  for (const report of reports) {
    for (const d of report.definitions) {
      const key = keyOf(d);
      const seen = merged.get(key);
      if (seen === undefined || RANK[d.state] < RANK[seen.state]) {
        merged.set(key, seen === undefined ? d : { ...d, firstSeen: min(d.firstSeen, seen.firstSeen) });
      } else {
        merged.set(key, { ...seen, lastSeen: max(seen.lastSeen, d.lastSeen) });
      }
    }
  }
  return [...merged.values()].sort(
    (a, b) => RANK[a.state] - RANK[b.state] || keyOf(a).localeCompare(keyOf(b)),
  );
}

const min = (a: string, b: string) => (a < b ? a : b);
const max = (a: string, b: string) => (a > b ? a : b);

function cut(value: unknown, max = MAX_STATUS_TEXT): string {
  const text = typeof value === 'string' ? value : (JSON.stringify(value) ?? '');
  return text.length > max ? `${text.slice(0, max)}…` : text;
}

function statusDefinition(d: ReportedDefinition): ObservedDefinition {
  const out: ObservedDefinition = {
    kind: d.kind,
    name: d.name,
    digest: d.digest,
    state: d.state,
    firstSeen: d.firstSeen,
    lastSeen: d.lastSeen,
  };
  if (d.reason !== undefined) out.reason = d.reason;
  if (d.pinned !== undefined) out.pinned = d.pinned;
  if (d.state !== 'pinned' && d.changes !== undefined && d.changes.length > 0) {
    out.changes = d.changes.slice(0, MAX_STATUS_CHANGES).map((c) => ({
      path: cut(c.path, 500),
      change: c.change,
      ...('before' in c ? { before: cut(c.before) } : {}),
      ...('after' in c ? { after: cut(c.after) } : {}),
    }));
  }
  if (d.suspicious !== undefined && d.suspicious.length > 0) {
    out.suspicious = d.suspicious
      .slice(0, 8)
      .map((s) => cut(`${s.path}: ${s.count} ${s.class} character(s), first ${s.codePoint}`, 500));
  }
  return out;
}

/** status.tools from the pins ConfigMap's data; undefined when no sidecar has reported. */
export function toolsStatus(
  mode: Mode,
  data: Readonly<Record<string, string>> | undefined,
  now: Date,
): ToolsStatus | undefined {
  if (mode === 'Off') return undefined;
  const reports = readReports(data, now);
  if (reports.size === 0) return undefined;
  const all = mergeReports(reports.values());
  const reportedAt = [...reports.values()].map((r) => r.at).reduce(max);
  const omitted = all.length - MAX_STATUS_DEFINITIONS;
  return {
    mode,
    pinned: all.filter((d) => d.state === 'pinned').length,
    held: all.filter((d) => d.state === 'held').length,
    reporters: reports.size,
    reportedAt,
    definitions: all.slice(0, MAX_STATUS_DEFINITIONS).map(statusDefinition),
    ...(omitted > 0 ? { omitted } : {}),
  };
}

const REASON_OF = {
  suspicious: ServerReason.SuspiciousDefinition,
  changed: ServerReason.DefinitionChanged,
  unapproved: ServerReason.DefinitionNotApproved,
} as const;

const named = (d: ObservedDefinition) => (d.kind === 'instructions' ? 'instructions' : `${d.kind} ${d.name}`);

export function toolsPinnedCondition(
  mode: Mode,
  tools: ToolsStatus | undefined,
  server: string,
  generation: number,
): ConditionUpdate {
  const c = (status: ConditionUpdate['status'], reason: string, message: string): ConditionUpdate => ({
    type: ServerCondition.ToolsPinned,
    status,
    reason,
    message,
    observedGeneration: generation,
  });
  if (mode === 'Off')
    return c('False', ServerReason.PinningOff, 'spec.tools.pinning.mode is Off: definitions are not pinned.');
  if (tools === undefined)
    return c('Unknown', ServerReason.AwaitingReport, 'No sidecar has reported the server definitions yet.');
  const drifted = tools.definitions.filter((d) => d.reason !== undefined);
  if (drifted.length === 0)
    return c('True', ServerReason.Pinned, `${tools.pinned} definitions match their pins (${mode}).`);
  // The most telling reason names the condition: hidden Unicode, then a change, then no approval.
  const reason = (['suspicious', 'changed', 'unapproved'] as const).find((r) =>
    drifted.some((d) => d.reason === r),
  ) as keyof typeof REASON_OF;
  const effect = mode === 'Observe' ? 'recorded, not held (Observe)' : 'held: hidden and refused';
  const list = drifted
    .slice(0, 5)
    .map((d) => `${named(d)} (${d.reason})`)
    .join(', ');
  const more = drifted.length > 5 ? ` and ${drifted.length - 5} more` : '';
  return c(
    'False',
    REASON_OF[reason],
    `${list}${more}: ${effect}. Review with kubectl portcullis tools diff ${server}; approve with kubectl portcullis tools approve ${server}.`,
  );
}

/** Definitions held or drifted now, at a digest that was not so in the previous status. */
export function newDrift(
  previous: ToolsStatus | undefined,
  next: ToolsStatus | undefined,
): ObservedDefinition[] {
  const before = new Set(
    (previous?.definitions ?? []).filter((d) => d.reason !== undefined).map((d) => `${keyOf(d)}@${d.digest}`),
  );
  return (next?.definitions ?? []).filter(
    (d) => d.reason !== undefined && !before.has(`${keyOf(d)}@${d.digest}`),
  );
}

/** The Event note of one new hold: what, why, both digests and the start of the diff. */
export function driftNote(d: ObservedDefinition): string {
  const effect = d.state === 'held' ? 'held' : 'changed (not held: Observe)';
  const digests = d.pinned === undefined ? `now ${d.digest}` : `pinned ${d.pinned}, now ${d.digest}`;
  const diff = (d.changes ?? [])
    .slice(0, 3)
    .map((c) => `${c.path} ${c.change}${c.after === undefined ? '' : `: ${c.after}`}`)
    .join('; ');
  const hidden = d.suspicious?.[0] === undefined ? '' : ` Hidden text: ${d.suspicious[0]}.`;
  return `${named(d)} ${effect} (${d.reason}): ${digests}.${diff ? ` ${diff}.` : ''}${hidden}`.slice(0, 1024);
}
