import type {
  V1ConfigMap,
  V1Deployment,
  V1PodDisruptionBudget,
  V1Role,
  V1RoleBinding,
  V1Service,
  V1ServiceAccount,
} from '@kubernetes/client-node';
import type { SidecarConfig } from '../../../sidecar/src/contract/index.ts';
import type { ClusterMcpPolicy } from '../api/cluster-mcp-policy.ts';
import type { ExternalSource } from '../api/external-source.ts';
import type { McpPolicy } from '../api/mcp-policy.ts';
import type { McpServer } from '../api/mcp-server.ts';
import type { OperatorDefaults } from '../api/operator-defaults.ts';
import { gatewayEgressPorts } from './egress.ts';
import { RenderError } from './errors.ts';
import { externalUpstream, renderGatewayDeployment } from './external.ts';
import { externalEndpoint, hostedEndpoint } from './layout.ts';
import { renderConfigMap } from './render-configmap.ts';
import { renderDeployment } from './render-deployment.ts';
import { renderGatewayRole, renderGatewayRoleBinding } from './render-gateway-rbac.ts';
import { type NetworkPolicyObject, renderNetworkPolicy } from './render-network-policy.ts';
import { renderPodDisruptionBudget } from './render-pdb.ts';
import { renderPins } from './render-pins.ts';
import { renderService } from './render-service.ts';
import { renderServiceAccount } from './render-service-account.ts';
import { buildSidecarConfig, hostedUpstream } from './sidecar-config.ts';

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
  /** The pins ConfigMap and the sidecar's right to write it; absent when pinning is Off. */
  pinsConfigMap: V1ConfigMap | undefined;
  pinsRole: V1Role | undefined;
  pinsRoleBinding: V1RoleBinding | undefined;
  /** A gateway's right to report its upstream into this server's status (external servers only). */
  gatewayRole?: V1Role;
  gatewayRoleBinding?: V1RoleBinding;
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
  if (server.spec.external)
    return renderExternal(server, server.spec.external, policies, clusterPolicies, defaults);
  const hosted = server.spec.hosted;
  if (!hosted) {
    return fail(
      'RENDER_UNSUPPORTED_SOURCE',
      'only spec.hosted and spec.external are supported by this operator version',
    );
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
  const upstream = hostedUpstream(server, hosted, endpoint);
  const config = buildSidecarConfig(server, upstream, policies, defaults, endpoint, clusterPolicies);
  return rendered(server, config, endpoint.url, policies, defaults, {
    deployment: renderDeployment(server, hosted, defaults, config),
    networkPolicy: renderNetworkPolicy(server, defaults),
    podDisruptionBudget: renderPodDisruptionBudget(server, hosted.replicas),
  });
}

/** An external server: a gateway of the sidecar alone, its egress limited to what its configuration names. */
function renderExternal(
  server: McpServer,
  external: ExternalSource,
  policies: readonly McpPolicy[],
  clusterPolicies: readonly ClusterMcpPolicy[],
  defaults: OperatorDefaults,
): RenderResult {
  const endpoint = externalEndpoint(server, external, defaults);
  const upstream = externalUpstream(server, external);
  const config = buildSidecarConfig(server, upstream, policies, defaults, endpoint, clusterPolicies);
  return rendered(server, config, endpoint.url, policies, defaults, {
    deployment: renderGatewayDeployment(server, external, defaults, config),
    networkPolicy: renderNetworkPolicy(server, defaults, gatewayEgressPorts(config, defaults)),
    podDisruptionBudget: renderPodDisruptionBudget(server, external.replicas),
    gatewayRole: renderGatewayRole(server),
    gatewayRoleBinding: renderGatewayRoleBinding(server),
  });
}

/** The children every server has (its ServiceAccount, configuration, Service, pins), beside its own. */
function rendered(
  server: McpServer,
  config: SidecarConfig,
  url: string,
  policies: readonly McpPolicy[],
  defaults: OperatorDefaults,
  own: Pick<RenderedChildren, 'deployment' | 'networkPolicy' | 'podDisruptionBudget'> &
    Partial<RenderedChildren>,
): RenderResult {
  const pins = config.pinning?.mode === 'Off' ? undefined : renderPins(server);
  return {
    ok: true,
    config,
    url,
    policies: policies.map((p) => p.metadata.name).sort(),
    children: {
      serviceAccount: renderServiceAccount(server),
      configMap: renderConfigMap(server, config),
      service: renderService(server, defaults),
      pinsConfigMap: pins?.configMap,
      pinsRole: pins?.role,
      pinsRoleBinding: pins?.roleBinding,
      ...own,
    },
  };
}
