import type { V1NetworkPolicy, V1NetworkPolicyPeer, V1NetworkPolicyPort } from '@kubernetes/client-node';
import type { McpServer } from '../api/mcp-server.ts';
import type { OperatorDefaults } from '../api/operator-defaults.ts';
import { childMeta, selectorLabels } from './meta.ts';

// Traffic into a server's pods: anyone may reach the sidecar's MCP port (the sidecar decides who
// gets in); only the monitoring namespace may reach the metrics port; nothing may reach the MCP
// server container's own port. Ports are the containers' (a NetworkPolicy sees traffic after the
// Service has translated it). A gateway of an external server is limited on the way out too: DNS,
// and the TCP ports its sidecar needs (egress.ts), nothing else.

// client-node names the `from` field `_from`; this is the object as the API server reads it.
type IngressRule = { from?: V1NetworkPolicyPeer[]; ports: V1NetworkPolicyPort[] };
export type NetworkPolicyObject = Omit<V1NetworkPolicy, 'spec'> & {
  spec: Omit<NonNullable<V1NetworkPolicy['spec']>, 'ingress'> & { ingress: IngressRule[] };
};

const DNS_PORTS: V1NetworkPolicyPort[] = [
  { protocol: 'UDP', port: 53 },
  { protocol: 'TCP', port: 53 },
];

/** `egressPorts`: the TCP ports the pods may reach (with DNS); omitted, egress is not restricted. */
export function renderNetworkPolicy(
  server: McpServer,
  defaults: OperatorDefaults,
  egressPorts?: readonly number[],
): NetworkPolicyObject {
  const ingress: IngressRule[] = [{ ports: [{ protocol: 'TCP', port: defaults.sidecar.port }] }];
  const monitoring = defaults.monitoring.namespace;
  if (monitoring !== undefined) {
    ingress.push({
      from: [{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': monitoring } } }],
      ports: [{ protocol: 'TCP', port: defaults.sidecar.adminPort }],
    });
  }
  return {
    apiVersion: 'networking.k8s.io/v1',
    kind: 'NetworkPolicy',
    metadata: childMeta(server),
    spec: {
      podSelector: { matchLabels: selectorLabels(server) },
      policyTypes: egressPorts === undefined ? ['Ingress'] : ['Ingress', 'Egress'],
      ingress,
      ...(egressPorts === undefined
        ? {}
        : {
            egress: [{ ports: DNS_PORTS }, { ports: egressPorts.map((port) => ({ protocol: 'TCP', port })) }],
          }),
    },
  };
}
