import { isDeepStrictEqual } from 'node:util';

// The diff a reviewer approves: member by member, down through schemas, each change named by its
// JSON pointer with the value before and after (strings cut to a bound, so an audit event and a
// status stay small whatever a server sends).

export interface DefinitionChange {
  readonly path: string;
  readonly change: 'added' | 'removed' | 'changed';
  readonly before?: unknown;
  readonly after?: unknown;
}

const MAX_TEXT = 1024;
const MAX_CHANGES = 32;

export function diffDefinitions(before: unknown, after: unknown): DefinitionChange[] {
  const out: DefinitionChange[] = [];
  walk(before, after, '', out);
  return out;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function walk(a: unknown, b: unknown, path: string, out: DefinitionChange[]): void {
  if (out.length >= MAX_CHANGES || isDeepStrictEqual(a, b)) return;
  if (isObject(a) && isObject(b)) {
    const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
    for (const k of [...keys].sort()) {
      const child = `${path}/${k.replaceAll('~', '~0').replaceAll('/', '~1')}`;
      if (!(k in b)) push(out, { path: child, change: 'removed', before: bounded(a[k]) });
      else if (!(k in a)) push(out, { path: child, change: 'added', after: bounded(b[k]) });
      else walk(a[k], b[k], child, out);
    }
    return;
  }
  push(out, { path: path || '/', change: 'changed', before: bounded(a), after: bounded(b) });
}

function push(out: DefinitionChange[], change: DefinitionChange): void {
  if (out.length < MAX_CHANGES) out.push(change);
}

function bounded(v: unknown): unknown {
  if (typeof v === 'string') return v.length > MAX_TEXT ? `${v.slice(0, MAX_TEXT)}…` : v;
  if (typeof v === 'object' && v !== null) {
    const text = JSON.stringify(v);
    return text.length > MAX_TEXT ? `${text.slice(0, MAX_TEXT)}…` : v;
  }
  return v;
}

/** The diff as lines a person reads in a terminal or an Event message. */
export function formatChanges(changes: readonly DefinitionChange[]): string {
  return changes
    .map((c) => {
      const show = (v: unknown) => JSON.stringify(v);
      if (c.change === 'added') return `+ ${c.path}: ${show(c.after)}`;
      if (c.change === 'removed') return `- ${c.path}: ${show(c.before)}`;
      return `~ ${c.path}: ${show(c.before)} -> ${show(c.after)}`;
    })
    .join('\n');
}
