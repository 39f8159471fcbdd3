// The explicit table of MCP client-to-server methods and what each one touches (as ToolHive does).
// A method that is not in this table is refused: a new protocol revision must be reviewed here before
// its methods pass the sidecar.

import { normalizeResourceUri } from './resource-uri.ts';

export type TargetKind = 'tool' | 'resource' | 'prompt';

export type MethodClass =
  /** Needs no tool/resource/prompt decision: any authenticated caller may send it. */
  | { kind: 'open' }
  /** Decided on one named tool, resource or prompt. */
  | { kind: 'target'; target: TargetKind }
  /** completion/complete: decided on the prompt or resource its `ref` names. */
  | { kind: 'completion' }
  /** subscriptions/listen (2026-07-28): each resource it subscribes to is decided as resources/subscribe. */
  | { kind: 'subscriptions' }
  /** A list whose items are filtered to those the caller may use. */
  | {
      kind: 'list';
      target: TargetKind;
      field: ListField;
      itemKey: 'name' | 'uri' | 'uriTemplate';
      callMethod: string;
    }
  | { kind: 'unknown' };

export type ListField = 'tools' | 'prompts' | 'resources' | 'resourceTemplates';

const OPEN: MethodClass = { kind: 'open' };
const UNKNOWN: MethodClass = { kind: 'unknown' };

/**
 * Open methods carry no tool, resource or prompt: the lifecycle (initialize, ping), logging level,
 * and the task methods of 2025-11-25, whose task ids only exist because an authorized tools/call
 * created them in the caller's own session (the transport binds sessions to principals).
 */
const TABLE: ReadonlyMap<string, MethodClass> = new Map<string, MethodClass>([
  ['initialize', OPEN],
  ['server/discover', OPEN], // 2026-07-28: replaces the initialize handshake
  ['ping', OPEN],
  ['logging/setLevel', OPEN],
  ['tasks/get', OPEN],
  ['tasks/result', OPEN],
  ['tasks/list', OPEN],
  ['tasks/cancel', OPEN],
  ['tools/call', { kind: 'target', target: 'tool' }],
  ['resources/read', { kind: 'target', target: 'resource' }],
  ['resources/subscribe', { kind: 'target', target: 'resource' }],
  ['resources/unsubscribe', { kind: 'target', target: 'resource' }],
  ['prompts/get', { kind: 'target', target: 'prompt' }],
  ['completion/complete', { kind: 'completion' }],
  ['subscriptions/listen', { kind: 'subscriptions' }],
  ['tools/list', { kind: 'list', target: 'tool', field: 'tools', itemKey: 'name', callMethod: 'tools/call' }],
  [
    'prompts/list',
    { kind: 'list', target: 'prompt', field: 'prompts', itemKey: 'name', callMethod: 'prompts/get' },
  ],
  [
    'resources/list',
    { kind: 'list', target: 'resource', field: 'resources', itemKey: 'uri', callMethod: 'resources/read' },
  ],
  [
    'resources/templates/list',
    {
      kind: 'list',
      target: 'resource',
      field: 'resourceTemplates',
      itemKey: 'uriTemplate',
      callMethod: 'resources/read',
    },
  ],
]);

/**
 * Notifications (no reply, no data returned: initialized, cancelled, progress,
 * roots/list_changed, ...) are open. Everything else not in the table is unknown, hence denied.
 */
export function classifyMethod(method: string): MethodClass {
  const known = TABLE.get(method);
  if (known !== undefined) return known;
  return method.startsWith('notifications/') && method.length > 'notifications/'.length ? OPEN : UNKNOWN;
}

export interface MessageTarget {
  tool?: string;
  resource?: string;
  prompt?: string;
  /** subscriptions/listen: the resource URIs it subscribes to (undefined when malformed). */
  subscriptions?: readonly string[];
  arguments?: unknown;
}

function str(v: unknown): string | undefined {
  return typeof v === 'string' ? v : undefined;
}

/**
 * Pure: the tool / resource / prompt and arguments a JSON-RPC request names, per the table, for
 * building an AuthzRequest. Missing or mistyped fields are left out, which `decide` denies.
 */
export function targetOf(method: string, params: unknown): MessageTarget {
  const p = (typeof params === 'object' && params !== null ? params : {}) as Record<string, unknown>;
  const cls = classifyMethod(method);
  if (cls.kind === 'target') {
    switch (cls.target) {
      case 'tool':
        return { tool: str(p.name), arguments: p.arguments };
      case 'prompt':
        return { prompt: str(p.name), arguments: p.arguments };
      case 'resource':
        return { resource: str(p.uri) };
    }
  }
  if (cls.kind === 'completion') {
    const ref = (typeof p.ref === 'object' && p.ref !== null ? p.ref : {}) as Record<string, unknown>;
    const argument = p.argument;
    if (ref.type === 'ref/prompt') return { prompt: str(ref.name), arguments: argument };
    if (ref.type === 'ref/resource') return { resource: str(ref.uri), arguments: argument };
  }
  if (cls.kind === 'subscriptions') {
    const uris = (p.notifications as { resourceSubscriptions?: unknown } | undefined)?.resourceSubscriptions;
    if (uris === undefined) return { subscriptions: [] };
    if (Array.isArray(uris) && uris.every((u) => typeof u === 'string')) return { subscriptions: uris };
  }
  return {};
}

/**
 * Rewrites, in place, the resource URIs a message is decided on to their normalized form (see
 * resource-uri.ts), so the decision, the audit and the upstream all read one string. Returns why
 * the message cannot be decided (a URI that is not absolute), or undefined. Completion refs are left
 * as sent: they name templates (`{var}` is not URI syntax) and servers compare them as strings.
 */
export function normalizeTargetUris(
  method: string,
  params: Record<string, unknown> | undefined,
): string | undefined {
  if (params === undefined) return undefined;
  const cls = classifyMethod(method);
  if (cls.kind === 'target' && cls.target === 'resource') {
    if (typeof params.uri !== 'string') return undefined; // decide denies a request that names none
    const uri = normalizeResourceUri(params.uri);
    if (uri === undefined) return 'params.uri is not an absolute URI';
    params.uri = uri;
    return undefined;
  }
  if (cls.kind === 'subscriptions') {
    const uris = (params.notifications as { resourceSubscriptions?: unknown } | undefined)
      ?.resourceSubscriptions;
    if (!Array.isArray(uris)) return undefined;
    for (const [i, u] of uris.entries()) {
      if (typeof u !== 'string') continue;
      const uri = normalizeResourceUri(u);
      if (uri === undefined) return `params.notifications.resourceSubscriptions[${i}] is not an absolute URI`;
      uris[i] = uri;
    }
  }
  return undefined;
}

const LIST_FIELDS: readonly (readonly [ListField, string])[] = [...TABLE].flatMap(([method, cls]) =>
  cls.kind === 'list' ? [[cls.field, method] as const] : [],
);

/**
 * The list methods whose results this looks like (each top-level `tools`, `prompts`, `resources` or
 * `resourceTemplates` array it carries), for replies whose request the sidecar cannot name: a resumed
 * or standalone stream replays answers to requests of other exchanges. No other MCP result has these
 * members at the top level, so filtering by shape errs only towards filtering.
 */
export function listMethodsOfResult(result: unknown): string[] {
  if (typeof result !== 'object' || result === null) return [];
  return LIST_FIELDS.filter(([field]) => Array.isArray((result as Record<string, unknown>)[field])).map(
    ([, method]) => method,
  );
}
