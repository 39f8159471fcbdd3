import { compilePolicy, type Decision, filterListResult } from '../../../../sidecar/src/contract/index.ts';
import { type Command, UsageError } from '../shared/command.ts';
import { EXIT, table } from '../shared/output.ts';
import { type SimulatedCaller, simulatedPrincipal } from '../shared/principal.ts';
import { readServerConfig } from '../shared/server-config.ts';
import { simulate } from '../shared/simulate.ts';
import { knownTools } from './known-tools.ts';
import { parseQuestion } from './question.ts';

// `kubectl portcullis can-i --as USER [--groups G,...] call TOOL on SERVER [--args JSON]`: the decision
// of the rules the server's sidecars have (the rendered ConfigMap), for a simulated caller, with the
// deciding rule. Exit 0 allowed, 1 denied, 2 the question could not be answered.

const list = (v: unknown): string[] =>
  (Array.isArray(v) ? v : v === undefined ? [] : [v])
    .flatMap((s) => String(s).split(','))
    .map((s) => s.trim())
    .filter((s) => s !== '');

function claimsOf(values: unknown): Record<string, unknown> {
  const claims: Record<string, unknown> = {};
  for (const pair of Array.isArray(values) ? values : []) {
    const eq = String(pair).indexOf('=');
    if (eq <= 0) throw new UsageError(`--claim '${String(pair)}': expected NAME=VALUE`);
    const raw = String(pair).slice(eq + 1);
    let value: unknown = raw;
    try {
      value = JSON.parse(raw); // numbers, booleans, arrays; anything else is the string itself
    } catch {}
    claims[String(pair).slice(0, eq)] = value;
  }
  return claims;
}

function argumentsOf(text: unknown): Record<string, unknown> | undefined {
  if (text === undefined) return undefined;
  let value: unknown;
  try {
    value = JSON.parse(String(text));
  } catch (err) {
    throw new UsageError(`--args is not JSON: ${(err as Error).message}`);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    throw new UsageError('--args must be a JSON object');
  return value as Record<string, unknown>;
}

const ruleOf = (d: Decision) => (d.rule ? `${d.rule.policy}/${d.rule.name}` : '-');

export const canICommand: Command = {
  name: 'can-i',
  summary: 'Ask whether a caller may call a tool, read a resource or get a prompt, and which rule decides.',
  usage: [
    'can-i --as USER [--groups G,...] [--api-key ID] [--claim NAME=VALUE]... call TOOL on SERVER [--args JSON]',
    '       can-i --as USER ... read URI on SERVER',
    '       can-i --as USER ... get PROMPT on SERVER',
    '       can-i --as USER ... --all on SERVER',
    '',
    "Decides with the rules the server's sidecars have: the configuration the operator rendered into",
    "the server's ConfigMap (policies in force, cluster policies, the tool allow list), evaluated by the",
    "sidecar's own compiler. Prints yes or no and the deciding rule. Exit 0 yes, 1 no, 2 error.",
    '',
    'Flags:',
    "  --as USER            The caller's username; system:serviceaccount:NS:NAME for a ServiceAccount.",
    '  --groups G,...       Its groups (repeatable).',
    '  --api-key ID         The caller uses this API key (USER is then the key subject).',
    '  --claim NAME=VALUE   A token claim (repeatable; VALUE read as JSON when it parses).',
    "  --issuer URL         The token's issuer (for conditions on principal.issuer).",
    '  --args JSON          Arguments of the call (a JSON object), for conditions on arguments.',
    '  --method METHOD      Another MCP method on the target (e.g. resources/subscribe).',
    '  --all                Every tool the cluster knows for the server (pins, trusted definitions):',
    '                       the decision of a call with --args, and whether tools/list shows it.',
  ].join('\n'),
  options: {
    as: { type: 'string' },
    groups: { type: 'string', multiple: true },
    'api-key': { type: 'string' },
    claim: { type: 'string', multiple: true },
    issuer: { type: 'string' },
    args: { type: 'string' },
    method: { type: 'string' },
    all: { type: 'boolean' },
  },
  async run({ values, positionals, out, kube }) {
    if (typeof values.as !== 'string' || values.as === '') throw new UsageError('--as USER is required');
    const question = parseQuestion(positionals, values.all === true);
    const caller: SimulatedCaller = {
      user: values.as,
      groups: list(values.groups),
      claims: claimsOf(values.claim),
      ...(typeof values['api-key'] === 'string' ? { apiKey: values['api-key'] } : {}),
      ...(typeof values.issuer === 'string' ? { issuer: values.issuer } : {}),
    };
    const principal = simulatedPrincipal(caller);
    const args = argumentsOf(values.args);
    const { client, namespace } = await kube();
    const { config } = await readServerConfig(client, namespace, question.server);
    const policy = compilePolicy(config.authorization.rules);
    const server = config.server.name;

    if (question.kind === 'all-tools') {
      const tools = await knownTools(client, namespace, config);
      if (tools.length === 0) {
        out.err(
          `no tool of ${namespace}/${question.server} is known to the cluster (no pins, no trusted definitions)`,
        );
        return EXIT.error;
      }
      const listed = filterListResult(
        policy,
        principal,
        'tools/list',
        { tools: tools.map((name) => ({ name })) },
        server,
      );
      const visible = new Set((listed as { tools: { name: string }[] }).tools.map((t) => t.name));
      const rows = tools.map((tool) => {
        const d = simulate(policy, server, principal, {
          kind: 'tool',
          target: tool,
          ...(args ? { arguments: args } : {}),
        });
        return [
          tool,
          d.effect === 'allow' ? 'yes' : 'no',
          visible.has(tool) ? 'yes' : 'no',
          ruleOf(d),
          d.reason,
        ];
      });
      for (const line of table(['TOOL', 'CALL', 'LISTED', 'RULE', 'REASON'], rows)) out.out(line);
      return EXIT.ok;
    }

    let decision: Decision;
    try {
      decision = simulate(policy, server, principal, {
        kind: question.kind,
        target: question.target,
        ...(args ? { arguments: args } : {}),
        ...(typeof values.method === 'string' ? { method: values.method } : {}),
      });
    } catch (err) {
      throw new UsageError((err as Error).message);
    }
    out.out(decision.effect === 'allow' ? 'yes' : 'no');
    if (decision.rule) out.out(`rule: ${decision.rule.name} (policy ${decision.rule.policy})`);
    out.out(`reason: ${decision.reason}`);
    return decision.effect === 'allow' ? EXIT.ok : EXIT.no;
  },
};
