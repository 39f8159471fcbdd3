import { Environment } from '@marcbachmann/cel-js';

// The CEL environment for rule conditions (`when`), parsed and type-checked once per rule at policy
// compile time. Variables:
//   principal  map: subject, name, groups, claims, method, scopes, issuer?, serviceAccount?
//              ({namespace, name}), apiKeyId?, clientId?
//   arguments  map: the tool's / prompt's arguments ({} when none)
//   server, method, tool, resource, prompt  string ('' when the request has none)
// Optional principal fields are absent rather than null: test them with has(principal.x).

export type CelCheck = (context: CelContext) => unknown;

export interface CelContext {
  principal: unknown;
  arguments: unknown;
  server: string;
  method: string;
  tool: string;
  resource: string;
  prompt: string;
}

export interface CompiledCondition {
  evaluate: CelCheck;
  /** Whether the expression reads `arguments`; list filtering cannot know them (see filter-list.ts). */
  readsArguments: boolean;
}

function createEnvironment(): Environment {
  return new Environment({
    homogeneousAggregateLiterals: false,
    limits: { maxAstNodes: 2_000, maxDepth: 50 },
  })
    .registerVariable('principal', 'map')
    .registerVariable('arguments', 'map')
    .registerVariable('server', 'string')
    .registerVariable('method', 'string')
    .registerVariable('tool', 'string')
    .registerVariable('resource', 'string')
    .registerVariable('prompt', 'string');
}

function mentionsIdentifier(node: unknown, id: string): boolean {
  if (Array.isArray(node)) return node.some((n) => mentionsIdentifier(n, id));
  if (typeof node !== 'object' || node === null) return false;
  const n = node as { op?: unknown; args?: unknown };
  if (n.op === 'id') return n.args === id;
  return n.op !== undefined && mentionsIdentifier(n.args, id);
}

export type CelCompileResult =
  | { ok: true; condition: CompiledCondition }
  | {
      ok: false;
      code: 'invalid_cel' | 'cel_not_bool';
      message: string;
      /** Where in the expression (1-based), when the library points at a node. */
      position?: ExpressionPosition;
      cause?: unknown;
    };

export interface ExpressionPosition {
  line: number;
  column: number;
}

/** Compiles conditions against one shared environment (the environment is per policy, not global). */
export function createCelCompiler(): (expression: string) => CelCompileResult {
  const env = createEnvironment();
  return (expression) => {
    let parsed: ReturnType<Environment['parse']>;
    try {
      parsed = env.parse(expression);
    } catch (cause) {
      return { ok: false, code: 'invalid_cel', ...located(cause, expression), cause };
    }
    const checked = parsed.check();
    if (!checked.valid)
      return { ok: false, code: 'invalid_cel', ...located(checked.error, expression), cause: checked.error };
    if (checked.type !== 'bool' && checked.type !== 'dyn') {
      return { ok: false, code: 'cel_not_bool', message: `condition has type ${checked.type}, not bool` };
    }
    return {
      ok: true,
      condition: {
        evaluate: parsed as CelCheck,
        readsArguments: mentionsIdentifier(parsed.ast, 'arguments'),
      },
    };
  };
}

/**
 * The library's first line with the line and column (1-based) of the node it points at: its own
 * message draws a caret under the source, which a one-line condition message cannot show. The
 * position is also returned alone, so `policy test` can point into the YAML file holding the rule.
 */
function located(err: unknown, expression: string): { message: string; position?: ExpressionPosition } {
  const message = err instanceof Error ? err.message : String(err);
  const first = message.split('\n')[0] ?? message;
  const pos = (err as { node?: { pos?: unknown } } | undefined)?.node?.pos;
  if (typeof pos !== 'number' || pos < 0 || pos > expression.length) return { message: first };
  const before = expression.slice(0, pos);
  const line = before.split('\n').length;
  const column = pos - before.lastIndexOf('\n');
  return { message: `${first} at line ${line}, column ${column}`, position: { line, column } };
}
