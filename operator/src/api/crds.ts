import type { TSchema } from 'typebox';
import { stringify } from 'yaml';
import {
  CLUSTER_MCP_POLICY_KIND,
  ClusterMcpPolicySpec,
  ClusterMcpPolicyStatus,
  ClusterMcpPolicy as ClusterPolicySchema,
} from './cluster-mcp-policy.ts';
import { type JsonSchema, toCrdSchema } from './crd-schema.ts';
import { CATEGORY, GROUP, VERSION } from './group.ts';
import { MCP_POLICY_KIND, McpPolicySpec, McpPolicyStatus, McpPolicy as PolicySchema } from './mcp-policy.ts';
import { MCP_SERVER_KIND, McpServerSpec, McpServerStatus, McpServer as ServerSchema } from './mcp-server.ts';

// The CustomResourceDefinitions, built from the TypeBox schemas (the one source of truth). Pure: the
// generator script writes what this returns, and a unit test compares it with the checked-in files.

type PrinterColumn = { name: string; type: string; jsonPath: string; description: string; priority?: number };

type KindDefinition = {
  kind: string;
  plural: string;
  singular: string;
  shortNames: string[];
  scope: 'Namespaced' | 'Cluster';
  root: TSchema;
  spec: TSchema;
  status: TSchema;
  printerColumns: PrinterColumn[];
};

const readyColumn = (type: string): PrinterColumn => ({
  name: type === 'Ready' ? 'READY' : type.toUpperCase(),
  type: 'string',
  jsonPath: `.status.conditions[?(@.type=="${type}")].status`,
  description: `Status of the ${type} condition.`,
});
const ageColumn: PrinterColumn = {
  name: 'AGE',
  type: 'date',
  jsonPath: '.metadata.creationTimestamp',
  description: 'Time since creation.',
};

const KINDS: KindDefinition[] = [
  {
    kind: MCP_SERVER_KIND,
    plural: 'mcpservers',
    singular: 'mcpserver',
    shortNames: ['mcps'],
    scope: 'Namespaced',
    root: ServerSchema,
    spec: McpServerSpec,
    status: McpServerStatus,
    printerColumns: [
      {
        name: 'TYPE',
        type: 'string',
        jsonPath: '.status.source',
        description: 'Source: hosted, external or compose.',
      },
      {
        name: 'URL',
        type: 'string',
        jsonPath: '.status.url',
        description: 'In-cluster URL of the MCP endpoint.',
      },
      {
        name: 'POLICIES',
        type: 'string',
        jsonPath: '.status.policyNames',
        description: 'McpPolicies in force.',
      },
      readyColumn('Ready'),
      {
        name: 'PHASE',
        type: 'string',
        jsonPath: '.status.phase',
        description: 'Summary phase.',
        priority: 1,
      },
      ageColumn,
    ],
  },
  {
    kind: MCP_POLICY_KIND,
    plural: 'mcppolicies',
    singular: 'mcppolicy',
    shortNames: ['mcpp'],
    scope: 'Namespaced',
    root: PolicySchema,
    spec: McpPolicySpec,
    status: McpPolicyStatus,
    printerColumns: [
      readyColumn('Accepted'),
      { name: 'SERVERS', type: 'string', jsonPath: '.status.servers', description: 'McpServers selected.' },
      ageColumn,
    ],
  },
  {
    kind: CLUSTER_MCP_POLICY_KIND,
    plural: 'clustermcppolicies',
    singular: 'clustermcppolicy',
    shortNames: ['cmcpp'],
    scope: 'Cluster',
    root: ClusterPolicySchema,
    spec: ClusterMcpPolicySpec,
    status: ClusterMcpPolicyStatus,
    printerColumns: [
      readyColumn('Accepted'),
      { name: 'SERVERS', type: 'string', jsonPath: '.status.servers', description: 'McpServers selected.' },
      ageColumn,
    ],
  },
];

function openApiSchema(def: KindDefinition): JsonSchema {
  const root = def.root as unknown as JsonSchema;
  const rootValidations = root['x-kubernetes-validations'];
  return {
    description: root.description,
    type: 'object',
    required: ['spec'],
    properties: {
      apiVersion: {
        description: 'Versioned schema of this representation of an object.',
        type: 'string',
      },
      kind: { description: 'REST resource this object represents.', type: 'string' },
      // name is declared so a rule can name .metadata.name as its fieldPath; the API server allows
      // nothing else under metadata.
      metadata: {
        type: 'object',
        properties: { name: { type: 'string', description: 'Name of the object.' } },
      },
      spec: toCrdSchema(def.spec as unknown as JsonSchema, 'spec'),
      status: toCrdSchema(def.status as unknown as JsonSchema, 'status'),
    },
    ...(rootValidations === undefined ? {} : { 'x-kubernetes-validations': rootValidations }),
  };
}

/** The CRD objects, in a fixed order. */
export function customResourceDefinitions(): object[] {
  return KINDS.map((def) => ({
    apiVersion: 'apiextensions.k8s.io/v1',
    kind: 'CustomResourceDefinition',
    metadata: {
      name: `${def.plural}.${GROUP}`,
      labels: { 'app.kubernetes.io/part-of': 'portcullis' },
    },
    spec: {
      group: GROUP,
      names: {
        kind: def.kind,
        listKind: `${def.kind}List`,
        plural: def.plural,
        singular: def.singular,
        shortNames: def.shortNames,
        categories: [CATEGORY],
      },
      scope: def.scope,
      versions: [
        {
          name: VERSION,
          served: true,
          storage: true,
          subresources: { status: {} },
          additionalPrinterColumns: def.printerColumns,
          schema: { openAPIV3Schema: openApiSchema(def) },
        },
      ],
    },
  }));
}

const HEADER = '# Generated by `npm run crds:generate` from operator/src/api. Do not edit.\n';

/** File name (under crds/) -> YAML text, exactly as checked in. */
export function crdFiles(): Map<string, string> {
  const files = new Map<string, string>();
  for (const crd of customResourceDefinitions() as { metadata: { name: string } }[]) {
    const [plural, ...group] = crd.metadata.name.split('.');
    files.set(`${group.join('.')}_${plural}.yaml`, HEADER + stringify(crd, { lineWidth: 0 }));
  }
  return files;
}
