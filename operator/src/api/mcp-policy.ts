import Type from 'typebox';
import { PolicyRule } from '../../../sidecar/src/contract/index.ts';
import { API_VERSION } from './group.ts';
import { Conditions, LabelSelector, ObjectMeta } from './kube-types.ts';

// McpPolicy: who may call which tools, resources and prompts of the McpServers it selects. The rule
// schema is the sidecar's own (policy-rule.ts), so a rule means the same thing in the CRD and at runtime.

export const MCP_POLICY_KIND = 'McpPolicy';

export const McpPolicySpec = Type.Object(
  {
    servers: LabelSelector,
    rules: Type.Array(PolicyRule, {
      maxItems: 256,
      // A map keyed by name: the API server refuses two rules with one name, and server-side apply
      // merges rules one by one.
      'x-kubernetes-list-type': 'map',
      'x-kubernetes-list-map-keys': ['name'],
      description:
        'Rules, each naming the callers it covers and allowing or denying them tools, resources and prompts. A matching deny always wins; a request no rule allows is denied.',
    }),
  },
  {
    description:
      'Desired state of the policy. spec.servers selects McpServers in the same namespace by label ({} selects all of them).',
  },
);
export type McpPolicySpec = Type.Static<typeof McpPolicySpec>;

// The last spec the operator accepted is kept in status, with the policy itself: status is written
// only by the operator (the chart's aggregated roles grant nobody else mcppolicies/status), it goes
// wherever the policy goes, and it outlives every server's ConfigMap. An annotation would be writable
// by anyone who can edit the policy and is limited to 256 KiB; status shares the object's 1.5 MiB
// with spec, so a policy whose spec is over half that cannot have its accepted copy stored (its
// servers then fail closed while it is not accepted, never open).
export const AcceptedSpec = Type.Object(
  {
    generation: Type.Integer({ minimum: 0, description: 'metadata.generation of the accepted spec.' }),
    digest: Type.String({
      maxLength: 80,
      description: 'sha256 of the canonical JSON of servers and rules, to compare versions at a glance.',
    }),
    servers: LabelSelector,
    rules: Type.Array(PolicyRule, { maxItems: 256, description: 'The accepted rules.' }),
  },
  {
    description:
      'The last spec the operator accepted. While the spec is not accepted, the servers this selects keep these rules; a policy never accepted makes the servers it selects deny every call.',
  },
);
export type AcceptedSpec = Type.Static<typeof AcceptedSpec>;

export const McpPolicyStatus = Type.Object(
  {
    lastAccepted: Type.Optional(AcceptedSpec),
    observedGeneration: Type.Optional(
      Type.Integer({ minimum: 0, description: 'metadata.generation the status describes.' }),
    ),
    conditions: Type.Optional(Conditions),
    servers: Type.Optional(
      Type.Array(Type.String({ maxLength: 253 }), {
        maxItems: 1024,
        description: 'McpServers this policy selects, by name.',
      }),
    ),
  },
  { description: 'Observed state of the policy, written by the operator.' },
);
export type McpPolicyStatus = Type.Static<typeof McpPolicyStatus>;

export const McpPolicy = Type.Object(
  {
    apiVersion: Type.Literal(API_VERSION),
    kind: Type.Literal(MCP_POLICY_KIND),
    metadata: ObjectMeta,
    spec: McpPolicySpec,
    status: Type.Optional(McpPolicyStatus),
  },
  {
    description:
      'Authorization rules for the MCP servers it selects. A policy the operator cannot compile is marked Accepted=False; the servers keep its last accepted version (status.lastAccepted), or deny every call when it has none.',
  },
);
export type McpPolicy = Type.Static<typeof McpPolicy>;
