import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { OperatorDefaults } from '../../operator/src/api/operator-defaults.ts';

// charts/portcullis/values.schema.json, built from one source: the chart's own keys are described
// here, and `config` (the operator's --defaults file) is the operator's OperatorDefaults schema, so
// `helm install` refuses what the operator would refuse. The chart fills config.sidecar.image, and
// keys with a default may be left out (the operator fills them). `npm run chart:schema` writes the
// file; test/unit/charts/values-schema.test.ts fails when it is stale.

type Schema = Record<string, unknown>;

export const VALUES_SCHEMA_FILE = join(import.meta.dirname, '..', 'portcullis', 'values.schema.json');

/** Drops `required` entries whose property has a default, recursively; drops sidecar.image. */
function relaxDefaults(schema: unknown): unknown {
  if (Array.isArray(schema)) return schema.map(relaxDefaults);
  if (schema === null || typeof schema !== 'object') return schema;
  const out: Schema = {};
  for (const [k, v] of Object.entries(schema as Schema)) out[k] = relaxDefaults(v);
  const props = out.properties as Record<string, Schema> | undefined;
  if (props && Array.isArray(out.required)) {
    const required = (out.required as string[]).filter((p) => props[p] && !('default' in props[p]));
    if (required.length > 0) out.required = required;
    else delete out.required;
  }
  return out;
}

function configSchema(): Schema {
  const config = relaxDefaults(JSON.parse(JSON.stringify(OperatorDefaults))) as Schema;
  const props = config.properties as Record<string, Schema>;
  const sidecar = props.sidecar as Schema & { properties: Schema; required?: string[] };
  delete sidecar.properties.image;
  const rest = (sidecar.required ?? []).filter((r) => r !== 'image');
  if (rest.length > 0) sidecar.required = rest;
  else delete sidecar.required;
  config.required = ((config.required as string[] | undefined) ?? []).filter((r) => r !== 'sidecar');
  if ((config.required as string[]).length === 0) delete config.required;
  return { ...config, description: "The operator's cluster-owned defaults (OperatorDefaults)." };
}

const str = (description: string, extra: Schema = {}): Schema => ({ type: 'string', description, ...extra });
const int = (description: string, minimum: number, maximum?: number): Schema => ({
  type: 'integer',
  description,
  minimum,
  ...(maximum === undefined ? {} : { maximum }),
});
const bool = (description: string): Schema => ({ type: 'boolean', description });
const obj = (description: string, properties: Schema, required: string[] = []): Schema => ({
  type: 'object',
  description,
  additionalProperties: false,
  properties,
  ...(required.length > 0 ? { required } : {}),
});
const map = (description: string): Schema => ({
  type: 'object',
  description,
  additionalProperties: { type: 'string' },
});
const anyObject = (description: string): Schema => ({ type: 'object', description });
const list = (description: string, items: Schema = { type: 'object' }): Schema => ({
  type: 'array',
  description,
  items,
});
const DNS_LABEL = '^[a-z0-9]([-a-z0-9]*[a-z0-9])?$';
const DURATION = '^[0-9]+(ms|s|m|h)$';

const image = (what: string): Schema =>
  obj(`Image of the ${what}.`, {
    repository: str('Image repository.', { minLength: 1 }),
    tag: str("Image tag; empty: the chart's appVersion."),
    pullPolicy: { enum: ['Always', 'IfNotPresent', 'Never'] },
  });

const monitor = (what: string): Schema =>
  obj(what, {
    enabled: bool('Render it (needs the prometheus-operator CRDs).'),
    interval: str('Scrape interval.', { pattern: DURATION }),
    labels: map('Extra labels, e.g. the one your Prometheus selects monitors by.'),
  });

export function buildValuesSchema(): Schema {
  return {
    $schema: 'http://json-schema.org/draft-07/schema#',
    title: 'Portcullis Helm chart values',
    type: 'object',
    additionalProperties: false,
    required: ['image', 'watch', 'serviceAccount', 'rbac', 'operator', 'sidecar', 'config', 'monitoring'],
    properties: {
      global: anyObject('Helm global values (unused).'),
      image: image('operator'),
      imagePullSecrets: list('Pull secrets of the operator pod.', {
        type: 'object',
        properties: { name: { type: 'string' } },
        required: ['name'],
      }),
      nameOverride: str('Replaces the chart name in object names.'),
      fullnameOverride: str('Replaces the full object name prefix.'),
      replicaCount: int('Operator replicas; one leads through a Lease.', 1, 10),
      watch: {
        ...obj(
          'What the operator watches.',
          {
            mode: { enum: ['cluster', 'namespaces'], description: 'cluster: every namespace (ClusterRole).' },
            namespaces: list('Namespaces watched in namespaces mode (Roles only).', {
              type: 'string',
              pattern: DNS_LABEL,
            }),
          },
          ['mode'],
        ),
        if: { properties: { mode: { const: 'namespaces' } } },
        // biome-ignore lint/suspicious/noThenProperty: a JSON Schema keyword, not a thenable.
        then: { properties: { namespaces: { minItems: 1 } }, required: ['namespaces'] },
      },
      serviceAccount: obj('The operator ServiceAccount.', {
        create: bool('Create it.'),
        name: str('Its name; default: the full name.'),
        annotations: map('Annotations, e.g. for workload identity.'),
      }),
      rbac: obj('RBAC objects.', {
        create: bool("Create the operator's roles and bindings."),
        aggregateToDefaultRoles: bool('Add McpServer/McpPolicy rights to the view, edit and admin roles.'),
      }),
      operator: obj('Operator flags.', {
        logLevel: { enum: ['trace', 'debug', 'info', 'warn', 'error', 'fatal'] },
        workers: int('Concurrent McpServer reconciles.', 1, 64),
        resyncSeconds: int('Periodic resync (0: off).', 0, 86_400),
        leaderElection: obj('Leader election on a Lease.', {
          enabled: bool('Elect a leader (needed with more than one replica).'),
          leaseDurationSeconds: int('Lease duration.', 2, 300),
        }),
        healthPort: int('Port of /healthz, /readyz and /metrics.', 1024, 65535),
        heapMiB: int(
          'V8 old-space limit (MiB); keep it below the memory limit. 160 fits about 2,000 McpServers.',
          64,
        ),
        webhook: obj('Admission webhook refusing McpPolicy and ClusterMcpPolicy that do not compile.', {
          enabled: bool('Serve and register it (the operator makes its own CA and certificate).'),
          port: int('Container port of the webhook (HTTPS).', 1024, 65535),
        }),
      }),
      resources: anyObject('Resources of the operator container.'),
      podAnnotations: map('Extra pod annotations.'),
      podLabels: map('Extra pod labels.'),
      priorityClassName: str('Priority class of the operator pod.'),
      nodeSelector: map('Node selector.'),
      tolerations: list('Tolerations.'),
      affinity: anyObject('Affinity.'),
      topologySpreadConstraints: list('Topology spread constraints.'),
      runAsUser: int('Numeric non-root user of the operator.', 1),
      sidecar: obj('The injected sidecar.', { image: image('sidecar') }, ['image']),
      config: configSchema(),
      monitoring: obj('Prometheus and Grafana integration.', {
        serviceMonitor: monitor('ServiceMonitor for the operator.'),
        podMonitor: monitor('PodMonitor for every sidecar.'),
        prometheusRule: obj('PrometheusRule with the Portcullis alerts.', {
          enabled: bool('Render it (needs the prometheus-operator CRDs).'),
          labels: map('Extra labels.'),
        }),
        dashboards: obj('Grafana dashboards as ConfigMaps.', {
          enabled: bool('Render them.'),
          namespace: str("Namespace of the ConfigMaps; empty: the release's."),
          label: str('Label the Grafana sidecar looks for.', { minLength: 1 }),
          labelValue: str('Its value.'),
          annotations: map('Annotations, e.g. grafana_folder.'),
        }),
      }),
    },
  };
}

export function renderValuesSchema(): string {
  return `${JSON.stringify(buildValuesSchema(), null, 2)}\n`;
}

if (import.meta.main) {
  writeFileSync(VALUES_SCHEMA_FILE, renderValuesSchema());
  process.stdout.write(`wrote ${VALUES_SCHEMA_FILE}\n`);
}
