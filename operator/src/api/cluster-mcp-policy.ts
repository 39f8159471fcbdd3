import Type from 'typebox';
import { PolicyRule } from '../../../sidecar/src/contract/index.ts';
import { API_VERSION } from './group.ts';
import { Conditions, LabelSelector, ObjectMeta } from './kube-types.ts';

// ClusterMcpPolicy: the same rules as an McpPolicy, owned by the platform team and applied across
// namespaces: it selects McpServers by namespace labels and server labels. Namespace editors cannot
// change or delete it (the chart's aggregated roles leave it out; a dedicated ClusterRole grants it).
// Its rules come first in every selected server's configuration: a cluster deny beats any
// namespaced allow, and names itself as the deciding rule (see docs/policy.md, evaluation order).

export const CLUSTER_MCP_POLICY_KIND = 'ClusterMcpPolicy';

const rules = (description: string) =>
  Type.Array(PolicyRule, {
    maxItems: 256,
    'x-kubernetes-list-type': 'map',
    'x-kubernetes-list-map-keys': ['name'],
    description,
  });

export const ClusterMcpPolicySpec = Type.Object(
  {
    namespaceSelector: Type.Optional(
      Type.Intersect([LabelSelector], {
        description:
          'Namespaces whose McpServers this policy may select, by namespace label. Omitted or {}: all.',
      }),
    ),
    servers: LabelSelector,
    rules: rules(
      'Rules, as in McpPolicy. They are evaluated before every namespaced rule of the servers selected: a matching deny here always wins.',
    ),
  },
  {
    description:
      'Desired state: which servers (namespaceSelector and servers, both label selectors) and which rules.',
  },
);
export type ClusterMcpPolicySpec = Type.Static<typeof ClusterMcpPolicySpec>;

export const ClusterAcceptedSpec = Type.Object(
  {
    generation: Type.Integer({ minimum: 0, description: 'metadata.generation of the accepted spec.' }),
    digest: Type.String({ maxLength: 80, description: 'sha256 of the canonical JSON of the accepted spec.' }),
    namespaceSelector: Type.Optional(LabelSelector),
    servers: LabelSelector,
    rules: Type.Array(PolicyRule, { maxItems: 256, description: 'The accepted rules.' }),
  },
  {
    description:
      'The last spec the operator accepted; kept in force while a later spec is not accepted. A policy never accepted makes the servers it selects deny every call.',
  },
);
export type ClusterAcceptedSpec = Type.Static<typeof ClusterAcceptedSpec>;

export const ClusterMcpPolicyStatus = Type.Object(
  {
    lastAccepted: Type.Optional(ClusterAcceptedSpec),
    observedGeneration: Type.Optional(
      Type.Integer({ minimum: 0, description: 'metadata.generation the status describes.' }),
    ),
    conditions: Type.Optional(Conditions),
    servers: Type.Optional(
      Type.Array(Type.String({ maxLength: 317 }), {
        maxItems: 1024,
        description: "McpServers this policy selects, as 'namespace/name'.",
      }),
    ),
  },
  { description: 'Observed state of the policy, written by the operator.' },
);
export type ClusterMcpPolicyStatus = Type.Static<typeof ClusterMcpPolicyStatus>;

export const ClusterMcpPolicy = Type.Object(
  {
    apiVersion: Type.Literal(API_VERSION),
    kind: Type.Literal(CLUSTER_MCP_POLICY_KIND),
    metadata: ObjectMeta,
    spec: ClusterMcpPolicySpec,
    status: Type.Optional(ClusterMcpPolicyStatus),
  },
  {
    description:
      'Cluster-wide authorization rules for the MCP servers it selects across namespaces, evaluated before their namespaced McpPolicies. Not editable by namespace editors.',
  },
);
export type ClusterMcpPolicy = Type.Static<typeof ClusterMcpPolicy>;
