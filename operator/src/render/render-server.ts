import type {
  V1ConfigMap,
  V1Deployment,
  V1PodDisruptionBudget,
  V1Service,
  V1ServiceAccount,
} from '@kubernetes/client-node';
import type { SidecarConfig } from '../../../sidecar/src/contract/index.ts';
import type { ClusterMcpPolicy } from '../api/cluster-mcp-policy.ts';
import type { McpPolicy } from '../api/mcp-policy.ts';
import type { McpServer } from '../api/mcp-server.ts';
import type { OperatorDefaults } from '../api/operator-defaults.ts';
import { RenderError } from './errors.ts';
import { hostedEndpoint } from './layout.ts';
import { renderConfigMap } from './render-configmap.ts';
import { renderDeployment } from './render-deployment.ts';
import { type NetworkPolicyObject, renderNetworkPolicy } from './render-network-policy.ts';
import { renderPodDisruptionBudget } from './render-pdb.ts';
import { renderService } from './render-service.ts';
import { renderServiceAccount } from './render-service-account.ts';
import { buildSidecarConfig } from './sidecar-config.ts';

// (McpServer, the policies that select it, cluster defaults) -> every child object, ready for
// server-side apply. Pure: no clock, no I/O, same inputs give equal objects.

export type RenderInput = {
  server: McpServer;
  /** The selected policies, each at the version in force (an invalid edit must not reach pods). */
  policies: readonly McpPolicy[];
  /** The selected ClusterMcpPolicies, each at the version in force. */
  clusterPolicies?: readonly ClusterMcpPolicy[];
  defaults: OperatorDefaults;
};

export type RenderedChildren = {
  serviceAccount: V1ServiceAccount;
  configMap: V1ConfigMap;
  deployment: V1Deployment;
  service: V1Service;
  networkPolicy: NetworkPolicyObject;
  /** Absent when replicas <= 1: the controller deletes a budget left from a larger scale. */
  podDisruptionBudget: V1PodDisruptionBudget | undefined;
};

export type RenderResult =
  | {
      ok: true;
      children: RenderedChildren;
      /** The sidecar configuration inside the ConfigMap, for status and tests. */
      config: SidecarConfig;
      /** In-cluster URL of the endpoint, for status.url. */
      url: string;
      /** Names of the policies in force, for status.policies. */
      policies: string[];
    }
  | { ok: false; error: RenderError };

const fail = (code: ConstructorParameters<typeof RenderError>[0], message: string): RenderResult => ({
  ok: false,
  error: new RenderError(code, message),
});

export function renderServer({
  server,
  policies,
  clusterPolicies = [],
  defaults,
}: RenderInput): RenderResult {
  const { name, namespace, uid } = server.metadata;
  if (!namespace || !uid) {
    return fail(
      'RENDER_MISSING_METADATA',
      `McpServer ${name} has no namespace or uid; render objects read from the API`,
    );
  }
  const hosted = server.spec.hosted;
  if (!hosted) {
    return fail('RENDER_UNSUPPORTED_SOURCE', 'only spec.hosted is supported by this operator version');
  }
  if (hosted.transport === 'stdio' && (hosted.command ?? []).length === 0) {
    return fail(
      'RENDER_MISSING_FIELD',
      'spec.hosted.command is required for the stdio transport: the launcher runs it once per MCP session',
    );
  }
  if (hosted.transport !== 'stdio' && hosted.port === undefined) {
    return fail('RENDER_MISSING_FIELD', `spec.hosted.port is required for the ${hosted.transport} transport`);
  }
  const taken = [defaults.sidecar.port, defaults.sidecar.adminPort];
  if (hosted.port !== undefined && taken.includes(hosted.port)) {
    return fail(
      'RENDER_PORT_CONFLICT',
      `spec.hosted.port ${hosted.port} is used by the Portcullis sidecar in the same pod (ports ${taken.join(', ')}); choose another port`,
    );
  }

  const endpoint = hostedEndpoint(server, hosted, defaults);
  const config = buildSidecarConfig(server, hosted, policies, defaults, endpoint, clusterPolicies);
  return {
    ok: true,
    config,
    url: endpoint.url,
    policies: policies.map((p) => p.metadata.name).sort(),
    children: {
      serviceAccount: renderServiceAccount(server),
      configMap: renderConfigMap(server, config),
      deployment: renderDeployment(server, hosted, defaults, config),
      service: renderService(server, defaults),
      networkPolicy: renderNetworkPolicy(server, defaults),
      podDisruptionBudget: renderPodDisruptionBudget(server, hosted),
    },
  };
}
