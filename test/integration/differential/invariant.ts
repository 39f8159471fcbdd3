import { isDeepStrictEqual } from 'node:util';

// The differential corpus's invariant, as a pure function: the upstream never executes a call that
// the audit log does not show as allowed under that same name, URI and arguments. Each allowed audit
// event vouches for at most one execution.

/** What an upstream fixture recorded: the name, URI and arguments as its handler received them. */
export interface Executed {
  kind: 'tool' | 'resource' | 'prompt';
  name?: string;
  uri?: string;
  arguments?: Record<string, unknown>;
}

/** The fields of an audit event (schema portcullis.dev/audit/v1) the invariant reads. */
export interface AuditEvent {
  seq: number;
  outcome: string;
  method: string;
  session?: string;
  jsonrpcId?: unknown;
  target?: { tool?: string; resource?: string; prompt?: string };
  payload?: { arguments?: unknown };
}

const METHOD = { tool: 'tools/call', resource: 'resources/read', prompt: 'prompts/get' } as const;

/**
 * The arguments each demo tool and prompt declares (test/fixtures/upstreams/): the SDKs drop any
 * other key before the handler runs, so only these can differ between the audit and the execution.
 */
export const DECLARED_ARGUMENTS: Readonly<Record<string, readonly string[]>> = {
  echo: ['message'],
  'get-env': ['key'],
  add: ['a', 'b'],
  greet: ['who'],
  internal: ['who'],
};

/**
 * Pure: whether `event` shows `call` as allowed: same method and target, and every declared argument
 * the same in both (or absent from both).
 */
export function vouchesFor(event: AuditEvent, call: Executed): boolean {
  if (event.outcome !== 'allowed' || event.method !== METHOD[call.kind]) return false;
  const target = event.target ?? {};
  if (call.kind === 'resource') return target.resource === call.uri;
  if ((call.kind === 'tool' ? target.tool : target.prompt) !== call.name) return false;
  const audited = event.payload?.arguments;
  const auditedArgs = (typeof audited === 'object' && audited !== null ? audited : {}) as Record<
    string,
    unknown
  >;
  const executedArgs = call.arguments ?? {};
  return (DECLARED_ARGUMENTS[call.name ?? ''] ?? []).every(
    (key) =>
      Object.hasOwn(auditedArgs, key) === Object.hasOwn(executedArgs, key) &&
      isDeepStrictEqual(auditedArgs[key], executedArgs[key]),
  );
}

/** Pure: the executions no allowed audit event vouches for; each event vouches once (`spent`). */
export function unvouched(executed: Executed[], events: AuditEvent[], spent = new Set<number>()): Executed[] {
  return executed.filter((call) => {
    const event = events.find((e) => !spent.has(e.seq) && vouchesFor(e, call));
    if (event === undefined) return true;
    spent.add(event.seq);
    return false;
  });
}

/** Pure: a one-line account of an audit event, for a failure message. */
export function describeEvent(e: AuditEvent): string {
  const target = e.target?.tool ?? e.target?.resource ?? e.target?.prompt ?? '';
  const args = e.payload?.arguments === undefined ? '' : ` ${JSON.stringify(e.payload.arguments)}`;
  return `${e.outcome} ${e.method} ${target}${args}`.trim();
}
