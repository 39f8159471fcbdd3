import {
  type PinReport,
  type ReportedDefinition,
  readReports,
} from '../../../../sidecar/src/contract/index.ts';
import type { McpServer } from '../../api/mcp-server.ts';
import { mergeReports } from '../../controller/mcpserver/pins-status.ts';

// The pure core of `kubectl portcullis tools`: the sidecars' reports (the `<server>-pins` ConfigMap)
// beside the approved pins (spec.tools.pins), as rows, diffs and the pins an approval writes. The
// reports carry the whole bounded diff; status.tools only its start.

type Pin = NonNullable<NonNullable<McpServer['spec']['tools']>['pins']>[number];

export const pinKeyOf = (d: { kind: string; name?: string }) =>
  d.kind === 'instructions' ? 'instructions' : `${d.kind}/${d.name ?? ''}`;

/** `add` names a tool; `prompt/review`, `resourceTemplate/file:///{path}` and `instructions` the others. */
export function keyOfArgument(arg: string): string {
  if (arg === 'instructions') return arg;
  const slash = arg.indexOf('/');
  const kind = slash < 0 ? '' : arg.slice(0, slash);
  return ['tool', 'prompt', 'resourceTemplate'].includes(kind) ? arg : `tool/${arg}`;
}

export interface PinsView {
  readonly mode: string;
  readonly definitions: readonly ReportedDefinition[];
  readonly approved: ReadonlyMap<string, string>;
  readonly reporters: number;
}

export function pinsView(
  server: McpServer,
  configMapData: Readonly<Record<string, string>> | undefined,
  now: Date,
): PinsView {
  const reports: Map<string, PinReport> = readReports(configMapData, now);
  return {
    mode: server.spec.tools?.pinning?.mode ?? 'TrustOnFirstUse',
    definitions: mergeReports(reports.values()),
    approved: new Map((server.spec.tools?.pins ?? []).map((p) => [pinKeyOf(p), p.digest])),
    reporters: reports.size,
  };
}

const shortDigest = (d: string | undefined) => (d === undefined ? '-' : d.slice(0, 19));

/** One row per definition: KIND NAME STATE REASON DIGEST APPROVED. */
export function rows(view: PinsView): string[][] {
  return view.definitions.map((d) => {
    const approved = view.approved.get(pinKeyOf(d));
    return [
      d.kind,
      d.kind === 'instructions' ? '-' : d.name,
      d.state,
      d.reason ?? (d.suspicious ? 'suspicious' : '-'),
      shortDigest(d.digest),
      approved === undefined
        ? d.state === 'pinned'
          ? 'first use'
          : 'no'
        : approved === d.digest
          ? 'yes'
          : 'other',
    ];
  });
}

const show = (v: unknown) => JSON.stringify(v);

/** The diff a reviewer approves: both digests, each change, and where text is hidden. */
export function diffLines(d: ReportedDefinition): string[] {
  const head = `${d.kind === 'instructions' ? 'instructions' : `${d.kind} ${d.name}`}: ${d.state}${d.reason ? ` (${d.reason})` : ''}`;
  const lines = [head, `  pinned:   ${d.pinned ?? '(none)'}`, `  observed: ${d.digest}`];
  for (const c of d.changes ?? []) {
    if (c.change === 'added') lines.push(`  + ${c.path}: ${show(c.after)}`);
    else if (c.change === 'removed') lines.push(`  - ${c.path}: ${show(c.before)}`);
    else lines.push(`  ~ ${c.path}:`, `      - ${show(c.before)}`, `      + ${show(c.after)}`);
  }
  for (const s of d.suspicious ?? [])
    lines.push(`  ! ${s.path}: ${s.count} hidden ${s.class} character(s), first ${s.codePoint}`);
  return lines;
}

export type Approval =
  | { ok: true; pins: Pin[]; approved: ReportedDefinition[]; skipped: ReportedDefinition[] }
  | { ok: false; message: string };

/**
 * The pins after approving what the sidecars observe now: the named definitions, or without names
 * every definition that is not already approved at its digest. Hidden Unicode is approved only with
 * includeSuspicious (named or not); a name nobody reported is an error, not a silent no-op.
 */
export function approve(
  view: PinsView,
  current: readonly Pin[],
  names: readonly string[],
  opts: { includeSuspicious: boolean },
): Approval {
  const byKey = new Map(view.definitions.map((d) => [pinKeyOf(d), d]));
  let chosen: ReportedDefinition[];
  if (names.length > 0) {
    chosen = [];
    for (const name of names) {
      const d = byKey.get(keyOfArgument(name));
      if (d === undefined)
        return {
          ok: false,
          message: `${keyOfArgument(name)} is not among the definitions the sidecars report`,
        };
      if (d.suspicious !== undefined && d.suspicious.length > 0 && !opts.includeSuspicious)
        return {
          ok: false,
          message: `${pinKeyOf(d)} holds hidden Unicode (${d.suspicious[0]?.codePoint} at ${d.suspicious[0]?.path}); review it with 'tools diff' and pass --include-suspicious to approve it anyway`,
        };
      chosen.push(d);
    }
  } else {
    chosen = view.definitions.filter((d) => view.approved.get(pinKeyOf(d)) !== d.digest);
  }
  const skipped = chosen.filter(
    (d) => d.suspicious !== undefined && d.suspicious.length > 0 && !opts.includeSuspicious,
  );
  const approved = chosen.filter((d) => !skipped.includes(d));
  const next = new Map(current.map((p) => [pinKeyOf(p), p]));
  for (const d of approved)
    next.set(
      pinKeyOf(d),
      d.kind === 'instructions'
        ? { kind: d.kind, digest: d.digest }
        : { kind: d.kind, name: d.name, digest: d.digest },
    );
  const pins = [...next.values()].sort((a, b) => pinKeyOf(a).localeCompare(pinKeyOf(b)));
  return { ok: true, pins, approved, skipped };
}
