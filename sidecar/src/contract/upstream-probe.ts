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
    reportStatus: Type.Optional(
      Type.Object(
        {
          tokenFile: Type.String({
            minLength: 1,
            description:
              "ServiceAccount token (API server audience) the report is written with; $KUBECONFIG instead when set (a sidecar outside a pod). RBAC: get and patch of this McpServer's status only.",
          }),
          caFile: Type.String({ minLength: 1, description: "The API server's CA bundle." }),
        },
        {
          additionalProperties: false,
          description:
            'Write each changed result into status.upstream of the McpServer server.name in server.namespace (server-side apply, field manager portcullis-gateway).',
        },
      ),
    ),
  },
  {
    additionalProperties: false,
    description: 'Periodic probe of an HTTP upstream: reachability and serverInfo.',
  },
);
export type UpstreamProbe = Type.Static<typeof UpstreamProbe>;
