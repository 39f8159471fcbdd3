import type { V1Affinity } from '@kubernetes/client-node';
import Type from 'typebox';

// Kubernetes fragments the Portcullis kinds embed, written once as TypeBox so each is at the same
// time a TypeScript type and a structural OpenAPI schema (see crd-schema.ts for the conversion).

/** A short, documented string. */
export const text = (description: string, options: { minLength?: number; maxLength?: number } = {}) =>
  Type.String({ maxLength: 1024, ...options, description });

/** A DNS-1123 subdomain: the names of most Kubernetes objects. */
export const objectName = (description: string) =>
  Type.String({
    minLength: 1,
    maxLength: 253,
    pattern: '^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$',
    description,
  });

/** A map of strings (labels, nodeSelector). */
export const stringMap = (description: string) =>
  Type.Record(Type.String(), Type.String({ maxLength: 63 * 1024 }), { description });

/**
 * The grammar of a non-negative Kubernetes quantity (resource.Quantity's, without the sign: no
 * resource may be negative). Checked where the value is written (CRD, Helm values, the operator's
 * defaults file): the API server only parses quantities when it converts the Deployment, and then
 * refuses it with an internal error that names no field of the McpServer.
 */
export const QUANTITY_PATTERN =
  '^(([0-9]+(\\.[0-9]*)?)|(\\.[0-9]+))(([KMGTPE]i)|[numkMGTPE]|([eE](\\+|-)?(([0-9]+(\\.[0-9]*)?)|(\\.[0-9]+))))?$';

/** Quantities ("500m", "128Mi", 2). pattern and minimum apply to the string and the integer form respectively. */
export const Quantity = Type.Unsafe<string | number>({
  anyOf: [{ type: 'integer' }, { type: 'string' }],
  pattern: QUANTITY_PATTERN,
  minimum: 0,
  'x-kubernetes-int-or-string': true,
  description: "A Kubernetes quantity such as '500m', '128Mi' or 2.",
});

/** The parts of ObjectMeta the operator reads; the CRD generator replaces it with `type: object`. */
export const ObjectMeta = Type.Object({
  name: Type.String({ description: 'Name, unique in the namespace.' }),
  namespace: Type.Optional(Type.String({ description: 'Namespace of the object.' })),
  uid: Type.Optional(Type.String({ description: 'Unique id assigned by the API server.' })),
  generation: Type.Optional(Type.Integer({ description: 'Sequence number of the desired state.' })),
  resourceVersion: Type.Optional(Type.String({ description: 'Opaque version for optimistic concurrency.' })),
  labels: Type.Optional(stringMap('Labels.')),
  annotations: Type.Optional(stringMap('Annotations.')),
  creationTimestamp: Type.Optional(Type.String({ description: 'Creation time (RFC 3339).' })),
  deletionTimestamp: Type.Optional(Type.String({ description: 'Deletion time (RFC 3339).' })),
});
export type ObjectMeta = Type.Static<typeof ObjectMeta>;

export const Condition = Type.Object(
  {
    type: Type.String({ maxLength: 316, description: 'Condition type, e.g. Ready, Accepted.' }),
    status: Type.Union([Type.Literal('True'), Type.Literal('False'), Type.Literal('Unknown')], {
      description: 'True, False or Unknown.',
    }),
    observedGeneration: Type.Optional(
      Type.Integer({ minimum: 0, description: 'metadata.generation the condition was computed from.' }),
    ),
    lastTransitionTime: Type.String({
      format: 'date-time',
      description: 'When the status last changed (not when the condition was last written).',
    }),
    reason: Type.String({
      minLength: 1,
      maxLength: 1024,
      pattern: '^[A-Za-z]([A-Za-z0-9_,:]*[A-Za-z0-9_])?$',
      description: 'CamelCase reason from a documented set.',
    }),
    message: Type.String({
      maxLength: 32768,
      description: 'What happened and what a person can do about it.',
    }),
  },
  { description: 'A standard Kubernetes status condition.' },
);
export type Condition = Type.Static<typeof Condition>;

export const Conditions = Type.Array(Condition, {
  maxItems: 16,
  'x-kubernetes-list-type': 'map',
  'x-kubernetes-list-map-keys': ['type'],
  description: 'Latest observations of the object, one per condition type.',
});

export const LabelSelector = Type.Object(
  {
    matchLabels: Type.Optional(stringMap('Labels the object must carry, all of them.')),
    matchExpressions: Type.Optional(
      Type.Array(
        Type.Object(
          {
            key: Type.String({ minLength: 1, maxLength: 317, description: 'Label key.' }),
            operator: Type.Union(
              [
                Type.Literal('In'),
                Type.Literal('NotIn'),
                Type.Literal('Exists'),
                Type.Literal('DoesNotExist'),
              ],
              { description: 'In, NotIn, Exists or DoesNotExist.' },
            ),
            values: Type.Optional(
              Type.Array(Type.String({ maxLength: 63 }), {
                maxItems: 64,
                description: 'Values for In and NotIn (at least one); empty for Exists and DoesNotExist.',
              }),
            ),
          },
          {
            description: 'A label requirement.',
            'x-kubernetes-validations': [
              {
                rule: "self.operator in ['In', 'NotIn'] ? (has(self.values) && size(self.values) > 0) : (!has(self.values) || size(self.values) == 0)",
                message: 'In and NotIn need at least one value; Exists and DoesNotExist take none',
              },
            ],
          },
        ),
        { maxItems: 32, description: 'Label requirements, all of them.' },
      ),
    ),
  },
  {
    'x-kubernetes-map-type': 'atomic',
    description: 'A Kubernetes label selector. An empty selector ({}) selects every object in the namespace.',
  },
);
export type LabelSelector = Type.Static<typeof LabelSelector>;

const keyRef = (what: string) =>
  Type.Object(
    {
      name: objectName(`Name of the ${what}.`),
      key: Type.String({ minLength: 1, maxLength: 253, description: `Key in the ${what}.` }),
      optional: Type.Optional(
        Type.Boolean({ description: `Whether the ${what} or its key may be missing.` }),
      ),
    },
    { description: `A key of a ${what} in the same namespace.` },
  );

export const EnvVar = Type.Object(
  {
    name: Type.String({ minLength: 1, maxLength: 1024, description: 'Environment variable name.' }),
    value: Type.Optional(Type.String({ maxLength: 65536, description: 'Literal value.' })),
    valueFrom: Type.Optional(
      Type.Object(
        {
          secretKeyRef: Type.Optional(keyRef('Secret')),
          configMapKeyRef: Type.Optional(keyRef('ConfigMap')),
          fieldRef: Type.Optional(
            Type.Object(
              {
                fieldPath: Type.String({ maxLength: 256, description: "Pod field, e.g. 'metadata.name'." }),
                apiVersion: Type.Optional(Type.String({ maxLength: 64, description: 'Defaults to v1.' })),
              },
              { description: 'A field of the pod (downward API).' },
            ),
          ),
        },
        {
          minProperties: 1,
          maxProperties: 1,
          description: 'Where the value comes from: exactly one of secretKeyRef, configMapKeyRef, fieldRef.',
        },
      ),
    ),
  },
  {
    description: 'An environment variable of the MCP server container.',
    'x-kubernetes-validations': [
      { rule: '!(has(self.value) && has(self.valueFrom))', message: 'set value or valueFrom, not both' },
    ],
  },
);

const sourceRef = (what: string) =>
  Type.Object(
    {
      name: objectName(`Name of the ${what}.`),
      optional: Type.Optional(Type.Boolean({ description: `Whether the ${what} may be missing.` })),
    },
    { description: `Every key of a ${what} in the same namespace.` },
  );

export const EnvFromSource = Type.Object(
  {
    prefix: Type.Optional(
      Type.String({ maxLength: 253, description: 'Prefix added to each variable name.' }),
    ),
    secretRef: Type.Optional(sourceRef('Secret')),
    configMapRef: Type.Optional(sourceRef('ConfigMap')),
  },
  {
    description: 'Environment variables from a Secret or ConfigMap (for the server’s upstream credentials).',
    'x-kubernetes-validations': [
      {
        rule: 'has(self.secretRef) != has(self.configMapRef)',
        message: 'set exactly one of secretRef, configMapRef',
      },
    ],
  },
);

export const ResourceRequirements = Type.Object(
  {
    requests: Type.Optional(
      Type.Record(Type.String(), Quantity, {
        description: 'Resources the scheduler reserves (cpu, memory).',
      }),
    ),
    limits: Type.Optional(
      Type.Record(Type.String(), Quantity, { description: 'Upper bounds (cpu, memory).' }),
    ),
  },
  { description: 'Compute resources of a container.' },
);
export type ResourceRequirements = Type.Static<typeof ResourceRequirements>;

export const Toleration = Type.Object(
  {
    key: Type.Optional(
      Type.String({ maxLength: 317, description: 'Taint key; empty with Exists: all taints.' }),
    ),
    operator: Type.Optional(
      Type.Union([Type.Literal('Exists'), Type.Literal('Equal')], {
        description: 'Exists or Equal (default).',
      }),
    ),
    value: Type.Optional(Type.String({ maxLength: 63, description: 'Taint value for Equal.' })),
    effect: Type.Optional(
      Type.Union([Type.Literal('NoSchedule'), Type.Literal('PreferNoSchedule'), Type.Literal('NoExecute')], {
        description: 'Taint effect to tolerate; empty: all effects.',
      }),
    ),
    tolerationSeconds: Type.Optional(
      Type.Integer({ description: 'For NoExecute: how long the pod stays bound after the taint appears.' }),
    ),
  },
  { description: 'A toleration of node taints.' },
);

/** Passed through to the pod unchanged; the API server validates it when the Deployment is applied. */
export const Affinity = Type.Unsafe<V1Affinity>({
  type: 'object',
  'x-kubernetes-preserve-unknown-fields': true,
  description:
    'Pod affinity, anti-affinity and node affinity, as in a pod spec (core/v1 Affinity). Checked by the API server when the Deployment is written.',
});

export const LocalObjectReference = Type.Object(
  { name: objectName('Name of the object in the same namespace.') },
  { description: 'A reference to an object in the same namespace.' },
);
