import { type ConfiguredRule, UNAUTHENTICATED_GROUP } from '../../../sidecar/src/contract/index.ts';
import type { McpServer } from '../api/mcp-server.ts';

// spec.tools.allow as a sidecar rule. The configuration has no allow-list section, but it has what
// an allow list means: a deny that always wins, for every caller, on any tool whose name matches
// none of the patterns. Its condition reads only `tool`, so list filtering hides those tools too.

export const TOOLS_ALLOW_LIST_RULE = 'tools-allow-list';

/** Glob ('*' any run, '?' one character) to an anchored regular-expression alternative. */
function globToRegex(glob: string): string {
  let out = '';
  for (const ch of glob) {
    if (ch === '*') out += '.*';
    else if (ch === '?') out += '.';
    else out += ch.replace(/[.+^${}()|[\]\\/*?]/g, '\\$&');
  }
  return out;
}

/** A CEL string literal holding `text`. */
function celString(text: string): string {
  return `"${text.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
}

/** Pure: the deny rule enforcing the server's tool allow list, or undefined when it has none. */
export function toolsAllowListRule(server: McpServer): ConfiguredRule | undefined {
  const allow = server.spec.tools?.allow;
  if (allow === undefined) return undefined;
  const owner = `${server.metadata.namespace}/${server.metadata.name}`;
  // An empty list allows no tool at all: the rule then denies every tool unconditionally.
  const when =
    allow.length === 0
      ? undefined
      : `!tool.matches(${celString(`^(?:${allow.map(globToRegex).join('|')})$`)})`;
  return {
    name: TOOLS_ALLOW_LIST_RULE,
    policy: `McpServer ${owner}`,
    action: 'deny',
    // Every caller: the authenticated ones and, where allowAnonymous is on, the anonymous one.
    subjects: [{ anyAuthenticated: true }, { group: UNAUTHENTICATED_GROUP }],
    tools: ['*'],
    ...(when === undefined ? {} : { when }),
  };
}
