import {
  type CompiledPolicy,
  type Decision,
  decide,
  normalizeTargetUris,
  type Principal,
  targetOf,
} from '../../../../sidecar/src/contract/index.ts';

// One MCP message decided as the sidecar decides it: the request's params built as a client sends
// them, resource URIs normalized and the target read with the sidecar's own method table, then the
// sidecar's `decide` over the compiled rules. Pure.

export type CallKind = 'tool' | 'resource' | 'prompt';

export interface SimulatedCall {
  kind: CallKind;
  /** Tool or prompt name, or resource URI. */
  target: string;
  arguments?: Readonly<Record<string, unknown>>;
  /** Defaults to tools/call, resources/read or prompts/get. */
  method?: string;
}

export const CALL_METHODS: Readonly<Record<CallKind, string>> = {
  tool: 'tools/call',
  resource: 'resources/read',
  prompt: 'prompts/get',
};

function paramsOf(call: SimulatedCall): Record<string, unknown> {
  if (call.kind === 'resource') return { uri: call.target };
  return { name: call.target, ...(call.arguments ? { arguments: call.arguments } : {}) };
}

export function simulate(
  policy: CompiledPolicy,
  server: string,
  principal: Principal,
  call: SimulatedCall,
): Decision {
  const method = call.method ?? CALL_METHODS[call.kind];
  const params = paramsOf(call);
  const invalid = normalizeTargetUris(method, params);
  if (invalid !== undefined) throw new Error(invalid);
  const target = targetOf(method, params);
  return decide(policy, principal, { method, server, ...target });
}
