import { createHash } from 'node:crypto';
import canonicalize from 'canonicalize';

// What is pinned: each definition exactly as a client sees it, reduced to the members that instruct
// a model or a person (never `_meta` or pagination), and its digest: SHA-256 of the RFC 8785 (JCS)
// canonical form, so two servers that serialize the same definition differently get the same digest.

export type DefinitionKind = 'tool' | 'prompt' | 'resourceTemplate' | 'instructions';

export interface Definition {
  readonly kind: DefinitionKind;
  /** Tool or prompt name, template URI; '' for the server's instructions. */
  readonly name: string;
  /** The members a client sees, in the form that is digested. */
  readonly body: Readonly<Record<string, unknown>>;
  /** `sha256:<hex>` of the canonical form of `body`. */
  readonly digest: string;
}

/** The members of each kind a client sees; everything else (`_meta`, `icons`) is not pinned. */
const MEMBERS: Readonly<Record<DefinitionKind, readonly string[]>> = {
  tool: ['name', 'title', 'description', 'inputSchema', 'outputSchema', 'annotations'],
  prompt: ['name', 'title', 'description', 'arguments'],
  resourceTemplate: ['uriTemplate', 'name', 'title', 'description', 'mimeType', 'annotations'],
  instructions: ['instructions'],
};

/** The list methods whose results carry definitions, and where. */
export const LIST_FIELDS: Readonly<Record<string, { field: string; kind: DefinitionKind; key: string }>> = {
  'tools/list': { field: 'tools', kind: 'tool', key: 'name' },
  'prompts/list': { field: 'prompts', kind: 'prompt', key: 'name' },
  'resources/templates/list': { field: 'resourceTemplates', kind: 'resourceTemplate', key: 'uriTemplate' },
};

/** The key a definition is pinned under: `tool/search`, `prompt/review`, `instructions`. */
export function pinKey(kind: DefinitionKind, name: string): string {
  return kind === 'instructions' ? kind : `${kind}/${name}`;
}

export function digestOf(body: unknown): string {
  // canonicalize returns undefined only for undefined input; bodies are always objects.
  const canonical = canonicalize(body) ?? '';
  return `sha256:${createHash('sha256').update(canonical).digest('hex')}`;
}

/** One item of a list result as a Definition; undefined when it has no usable name. */
export function definitionOf(kind: DefinitionKind, item: unknown): Definition | undefined {
  if (typeof item !== 'object' || item === null || Array.isArray(item)) return undefined;
  const source = item as Record<string, unknown>;
  const nameKey = kind === 'resourceTemplate' ? 'uriTemplate' : kind === 'instructions' ? undefined : 'name';
  const name = nameKey === undefined ? '' : source[nameKey];
  if (typeof name !== 'string' || (nameKey !== undefined && name === '')) return undefined;
  const body: Record<string, unknown> = {};
  for (const member of MEMBERS[kind]) if (source[member] !== undefined) body[member] = source[member];
  return { kind, name, body, digest: digestOf(body) };
}

/** The server's `instructions` from an initialize result; undefined when it sent none. */
export function instructionsOf(initializeResult: unknown): Definition | undefined {
  const instructions = (initializeResult as { instructions?: unknown } | null)?.instructions;
  if (typeof instructions !== 'string') return undefined;
  return definitionOf('instructions', { instructions });
}
