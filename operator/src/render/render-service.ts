import type { V1Service } from '@kubernetes/client-node';
import type { McpServer } from '../api/mcp-server.ts';
import type { OperatorDefaults } from '../api/operator-defaults.ts';
import { PORT_NAMES } from './layout.ts';
import { childMeta, selectorLabels } from './meta.ts';
import { stdioSettings } from './stdio.ts';

// The Service in front of the pods. Its `mcp` port leads to the sidecar (never to the MCP server
// container); metrics have their own port so scrapers and callers can be told apart.

export function renderService(server: McpServer, defaults: OperatorDefaults): V1Service {
  const hosted = server.spec.hosted;
  // A stdio session lives in one pod's process: kube-proxy keeps a caller's connections on one pod
  // for as long as the session may stay idle. What this does not cover (callers behind one NAT
  // share a pod; a caller whose address changes loses its session) is in docs/stdio.md.
  const affinity =
    hosted?.transport === 'stdio'
      ? {
          sessionAffinity: 'ClientIP',
          sessionAffinityConfig: { clientIP: { timeoutSeconds: stdioSettings(hosted).idleTimeoutSeconds } },
        }
      : {};
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: childMeta(server),
    spec: {
      type: 'ClusterIP',
      selector: selectorLabels(server),
      ...affinity,
      ports: [
        {
          name: PORT_NAMES.mcp,
          port: defaults.sidecar.servicePort,
          targetPort: PORT_NAMES.mcp,
          protocol: 'TCP',
          appProtocol: 'http',
        },
        {
          name: PORT_NAMES.metrics,
          port: defaults.sidecar.adminPort,
          targetPort: PORT_NAMES.metrics,
          protocol: 'TCP',
          appProtocol: 'http',
        },
      ],
    },
  };
}
