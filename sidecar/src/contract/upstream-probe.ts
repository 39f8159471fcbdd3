import Type from 'typebox';

// upstream.probe: the sidecar asks its HTTP upstream who it is (MCP initialize, its own session,
// never a caller's credential) at an interval, exposes the answer as metrics, and, in a gateway pod,
// writes it into the McpServer's status (docs/external-servers.md says why the gateway and not the
// operator probes).

export const UpstreamProbe = Type.Object(
  {
    // At least a second apart: the probe is a session on someone else's server.
    intervalMs: Type.Integer({
      minimum: 1_000,
      maximum: 3_600_000,
      default: 30_000,
      description: 'Time between two probes (ms).',
    }),
    timeoutMs: Type.Integer({
      minimum: 100,
      maximum: 120_000,
      default: 10_000,
      description: 'Time one probe may take, connect to initialize result (ms).',
    }),
    reportStatus: Type.Boolean({
      default: false,
      description:
        "Write each changed result into status.upstream of the McpServer server.name in server.namespace (server-side apply, field manager portcullis-gateway), with the pod's ServiceAccount ($KUBECONFIG outside a pod). RBAC: patch of that McpServer's status only.",
    }),
  },
  {
    additionalProperties: false,
    description: 'Periodic probe of an HTTP upstream: reachability and serverInfo.',
  },
);
export type UpstreamProbe = Type.Static<typeof UpstreamProbe>;
