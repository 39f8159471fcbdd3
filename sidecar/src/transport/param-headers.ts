import { encodeMcpHeaderValue } from './headers.ts';
import type { ClientMessage } from './jsonrpc.ts';

// Mcp-Param-* headers (2026-07-28, SEP-2243): a tool marks arguments with `x-mcp-header` in its
// inputSchema, and clients mirror their values into Mcp-Param-{Name} headers so that intermediaries
// can route without reading the body. The caller's copies are never forwarded: they were not what
// the sidecar decided on, and an upstream (or a router behind it) may act on them. The headers the
// upstream gets are derived from the decided arguments instead, with the declarations of the tool as
// the upstream itself listed it (learned from tools/list answers passing through). A tool not listed
// yet gets none: a conforming upstream answers HeaderMismatch, and the client lists the tools again
// and retries (the SDKs' recovery), by which time the declarations are known.

export interface ParamDeclaration {
  /** Where the argument sits in `arguments` (a chain of `properties` keys). */
  readonly path: readonly string[];
  /** Lowercase header name, `mcp-param-<name>`. */
  readonly header: string;
}

const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
const PRIMITIVE = new Set(['string', 'integer', 'boolean', 'number']);

/** Pure: the declarations of an inputSchema, or undefined when they break the spec's rules. */
export function paramDeclarations(inputSchema: unknown): readonly ParamDeclaration[] | undefined {
  const out: ParamDeclaration[] = [];
  const visit = (node: unknown, path: readonly string[]): boolean => {
    if (node === null || typeof node !== 'object') return true;
    const schema = node as Record<string, unknown>;
    const name = schema['x-mcp-header'];
    if (name !== undefined) {
      if (path.length === 0 || typeof name !== 'string' || !TOKEN.test(name)) return false;
      if (!PRIMITIVE.has(schema.type as string)) return false;
      const header = `mcp-param-${name.toLowerCase()}`;
      if (out.some((d) => d.header === header)) return false; // names are case-insensitively unique
      out.push({ path, header });
    }
    const properties = schema.properties;
    if (properties === null || typeof properties !== 'object') return true;
    return Object.entries(properties).every(([key, child]) => visit(child, [...path, key]));
  };
  return visit(inputSchema, []) ? out : undefined;
}

/** Pure: the spec's text form of a primitive argument; undefined for anything else (no header). */
function primitiveText(value: unknown): string | undefined {
  if (typeof value === 'string') return value;
  if (typeof value === 'boolean') return value ? 'true' : 'false';
  if (
    typeof value === 'number' &&
    Number.isFinite(value) &&
    (!Number.isInteger(value) || Number.isSafeInteger(value))
  )
    return String(value);
  return undefined;
}

/** Pure: the headers for a call's arguments; null, absent and non-primitive values get none. */
export function paramHeaders(
  declarations: readonly ParamDeclaration[],
  args: unknown,
): Record<string, string> {
  const out: Record<string, string> = {};
  for (const d of declarations) {
    let value: unknown = args;
    for (const key of d.path) {
      value =
        value !== null && typeof value === 'object' && Object.hasOwn(value, key)
          ? (value as Record<string, unknown>)[key]
          : undefined;
    }
    const text = primitiveText(value);
    if (text !== undefined) out[d.header] = encodeMcpHeaderValue(text);
  }
  return out;
}

export interface ParamHeaderCatalog {
  /** Takes note of the declarations of every tool in a tools/list result (before filtering). */
  learn(listResult: unknown): void;
  /** The headers to send upstream with a POST of this one message (none for a batch): tools/call only. */
  derive(message: ClientMessage | undefined): Record<string, string>;
}

const NONE: Record<string, string> = Object.freeze({}) as Record<string, string>;

export function createParamHeaderCatalog(maxTools = 4096): ParamHeaderCatalog {
  const byTool = new Map<string, readonly ParamDeclaration[]>();
  return {
    learn(listResult) {
      const tools = (listResult as { tools?: unknown } | null)?.tools;
      if (!Array.isArray(tools)) return;
      for (const tool of tools) {
        const { name, inputSchema } = (tool ?? {}) as { name?: unknown; inputSchema?: unknown };
        if (typeof name !== 'string') continue;
        const declarations = paramDeclarations(inputSchema);
        byTool.delete(name);
        if (declarations === undefined || declarations.length === 0) continue;
        // Bounded: the oldest entry makes room (a forgotten tool is learned again at its next listing).
        if (byTool.size >= maxTools) byTool.delete(byTool.keys().next().value as string);
        byTool.set(name, declarations);
      }
    },
    derive(message) {
      if (message?.kind !== 'request' || message.method !== 'tools/call' || byTool.size === 0) return NONE;
      const name = message.params?.name;
      const declarations = typeof name === 'string' ? byTool.get(name) : undefined;
      return declarations === undefined ? NONE : paramHeaders(declarations, message.params?.arguments);
    },
  };
}
