import Type from 'typebox';
import { Compile } from 'typebox/compile';

// What one sidecar reports about its server's definitions, for the operator to show in the
// McpServer status and for `kubectl portcullis tools`: each definition's digest, first and last
// seen, its state, and for a held one why, the pinned digest and the diff. Kept in the server's pins
// ConfigMap under one key per pod (`observed.<pod>`), so replicas never write the same key, and
// bounded, so a server with many or huge definitions cannot fill the ConfigMap (1 MiB in all).
// The report is the contract between sidecar and operator: this module imports only TypeBox. The
// operator checks every definition against the schema before it reaches status, so a sidecar (or
// whoever holds its token) cannot break the McpServer's status writes with a malformed report.

export const REPORT_PREFIX = 'observed.';
/** Bytes of one report's JSON; what does not fit loses its diffs first, then pinned definitions. */
export const REPORT_BUDGET = 128 * 1024;
/** A report not refreshed for this long is from a pod that is gone. */
export const REPORT_STALE_MS = 60 * 60 * 1000;
/** A live sidecar rewrites its report at least this often, so lastSeen and `at` stay current. */
export const REPORT_HEARTBEAT_MS = 5 * 60 * 1000;

const DIGEST = '^sha256:[0-9a-f]{64}$';
const Time = Type.String({ maxLength: 64 });

export const ReportedDefinition = Type.Object({
  kind: Type.Union([
    Type.Literal('tool'),
    Type.Literal('prompt'),
    Type.Literal('resourceTemplate'),
    Type.Literal('instructions'),
  ]),
  /** Tool or prompt name, template URI; '' for instructions. */
  name: Type.String({ maxLength: 1024 }),
  digest: Type.String({ pattern: DIGEST }),
  firstSeen: Time,
  lastSeen: Time,
  state: Type.Union([Type.Literal('pinned'), Type.Literal('held'), Type.Literal('observed')]),
  reason: Type.Optional(
    Type.Union([Type.Literal('changed'), Type.Literal('unapproved'), Type.Literal('suspicious')]),
  ),
  /** The digest it was pinned at, when held for a change. */
  pinned: Type.Optional(Type.String({ pattern: DIGEST })),
  /** JSON pointer, added / removed / changed, the values before and after (bounded). */
  changes: Type.Optional(
    Type.Array(
      Type.Object({
        path: Type.String({ maxLength: 4096 }),
        change: Type.Union([Type.Literal('added'), Type.Literal('removed'), Type.Literal('changed')]),
        before: Type.Optional(Type.Unknown()),
        after: Type.Optional(Type.Unknown()),
      }),
      { maxItems: 64 },
    ),
  ),
  suspicious: Type.Optional(
    Type.Array(
      Type.Object({
        path: Type.String({ maxLength: 4096 }),
        class: Type.String({ maxLength: 32 }),
        codePoint: Type.String({ maxLength: 16 }),
        count: Type.Integer({ minimum: 0 }),
      }),
      { maxItems: 64 },
    ),
  ),
});
export type ReportedDefinition = Type.Static<typeof ReportedDefinition>;

export interface PinReport {
  /** When the report was written (RFC 3339). */
  readonly at: string;
  readonly mode: 'Off' | 'Observe' | 'TrustOnFirstUse' | 'Enforce';
  readonly definitions: ReportedDefinition[];
  /** Definitions left out to keep within REPORT_BUDGET (pinned ones only). */
  readonly omitted?: number;
}

/** Checks each reported definition: the report is written by the sidecars, the status by the operator. */
const isDefinition = Compile(ReportedDefinition);

const RANK: Record<ReportedDefinition['state'], number> = { held: 0, observed: 1, pinned: 2 };

/** Pure: the bounded report of `observations`, held definitions first. */
export function pinReport(
  mode: PinReport['mode'],
  observations: readonly ReportedDefinition[],
  now: Date,
): PinReport {
  const definitions = observations
    .map((o) => ({ ...o }))
    .sort(
      (a, b) => RANK[a.state] - RANK[b.state] || a.kind.localeCompare(b.kind) || a.name.localeCompare(b.name),
    );
  const report = (defs: ReportedDefinition[], omitted: number): PinReport => ({
    at: now.toISOString(),
    mode,
    definitions: defs,
    ...(omitted > 0 ? { omitted } : {}),
  });
  let size = JSON.stringify(report(definitions, 0)).length;
  // Diffs go first, from the last definition up: the reason and both digests stay for every hold.
  for (let i = definitions.length - 1; i >= 0 && size > REPORT_BUDGET; i--) {
    const d = definitions[i] as ReportedDefinition;
    if (d.changes === undefined) continue;
    size -= JSON.stringify(d.changes).length;
    delete d.changes;
  }
  let omitted = 0;
  while (size > REPORT_BUDGET && definitions.length > 0 && definitions.at(-1)?.state === 'pinned') {
    size -= JSON.stringify(definitions.pop()).length;
    omitted++;
  }
  return report(definitions, omitted);
}

/** The reports in a pins ConfigMap's data, by pod, without those older than REPORT_STALE_MS. */
export function readReports(
  data: Readonly<Record<string, string>> | undefined,
  now: Date,
): Map<string, PinReport> {
  const out = new Map<string, PinReport>();
  for (const [key, value] of Object.entries(data ?? {})) {
    if (!key.startsWith(REPORT_PREFIX)) continue;
    let report: PinReport;
    try {
      report = JSON.parse(value) as PinReport;
    } catch {
      continue; // not ours to read: a person's edit; the next report replaces it
    }
    if (typeof report !== 'object' || report === null || !Array.isArray(report.definitions)) continue;
    const at = Date.parse(report.at);
    if (Number.isNaN(at) || now.getTime() - at > REPORT_STALE_MS) continue;
    const definitions = report.definitions.filter((d) => isDefinition.Check(d));
    out.set(key.slice(REPORT_PREFIX.length), { ...report, at: new Date(at).toISOString(), definitions });
  }
  return out;
}
