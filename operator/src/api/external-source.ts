import Type from 'typebox';
import { SecurityContextOverrides } from './hosted-source.ts';
import { Affinity, ResourceRequirements, stringMap, Toleration } from './kube-types.ts';
import { SecretKeyRef } from './upstream-auth.ts';

// spec.external of an McpServer: an MCP endpoint the cluster does not run (a vendor's SaaS server,
// another cluster's gateway), governed through a gateway Deployment of the Portcullis sidecar alone
// (docs/external-servers.md). Part of the McpServer schema (mcp-server.ts), kept apart for its size.

export const EXTERNAL_TRANSPORTS = ['streamable-http', 'sse'] as const;

/**
 * An in-cluster Service host: `<service>.<namespace>.svc`, optionally followed by the cluster domain.
 * Plain http is allowed only there: the upstream credentials the gateway adds (API keys, exchanged
 * tokens) and every tool argument would otherwise cross networks the cluster does not control in clear.
 */
const DNS_LABEL = '[a-z0-9]([-a-z0-9]*[a-z0-9])?';
export const IN_CLUSTER_HTTP_URL = `^http://${DNS_LABEL}\\.${DNS_LABEL}\\.svc(\\.${DNS_LABEL})*(:[0-9]{1,5})?([/?][^\\s#]*)?$`;

const ConfigMapKeyRef = Type.Object(
  {
    name: Type.String({ minLength: 1, maxLength: 253, description: 'ConfigMap in the same namespace.' }),
    key: Type.String({ minLength: 1, maxLength: 253, description: 'Key in the ConfigMap.' }),
  },
  { description: 'One key of a ConfigMap in the server’s namespace.' },
);

export const ExternalTls = Type.Object(
  {
    caBundle: Type.Optional(
      Type.Object(
        {
          secretKeyRef: Type.Optional(SecretKeyRef),
          configMapKeyRef: Type.Optional(ConfigMapKeyRef),
        },
        {
          description:
            'PEM bundle of the CAs the upstream certificate must chain to, instead of the public roots (a private CA). Reloaded without a restart when the Secret or ConfigMap changes.',
          'x-kubernetes-validations': [
            {
              rule: 'has(self.secretKeyRef) != has(self.configMapKeyRef)',
              message: 'set exactly one of secretKeyRef, configMapKeyRef',
            },
          ],
        },
      ),
    ),
    serverName: Type.Optional(
      Type.String({
        minLength: 1,
        maxLength: 253,
        pattern: '^[A-Za-z0-9]([-A-Za-z0-9]*[A-Za-z0-9])?(\\.[A-Za-z0-9]([-A-Za-z0-9]*[A-Za-z0-9])?)*$',
        description: 'Name the certificate must carry and sent as SNI (default: the URL host).',
      }),
    ),
  },
  { description: 'TLS to the upstream. The certificate is always verified; there is no way to skip it.' },
);
export type ExternalTls = Type.Static<typeof ExternalTls>;

export const ExternalSource = Type.Object(
  {
    url: Type.String({
      minLength: 1,
      maxLength: 2048,
      // No user info (credentials belong in spec.upstreamAuth, never in a URL that status and logs show).
      pattern: '^https?://[^/?#@\\s]+([/?][^\\s#]*)?$',
      description:
        'URL of the MCP endpoint (https). Callers reach it through the gateway at the in-cluster URL in status.url.',
    }),
    transport: Type.Enum(EXTERNAL_TRANSPORTS, {
      default: 'streamable-http',
      description:
        'How the upstream speaks: streamable-http, or sse (the legacy HTTP+SSE transport). Callers use the same transport on the gateway, at /mcp or /sse.',
    }),
    tls: Type.Optional(ExternalTls),
    allowInClusterHttp: Type.Boolean({
      default: false,
      description:
        'Allow a plain http URL, and only one of an in-cluster Service (<service>.<namespace>.svc[.<cluster domain>]), e.g. another cluster gateway behind a mesh. Off: https only.',
    }),
    replicas: Type.Integer({
      minimum: 0,
      maximum: 1000,
      default: 1,
      description: 'Pods of the gateway. A PodDisruptionBudget is created when more than 1.',
    }),
    probeIntervalSeconds: Type.Integer({
      minimum: 5,
      maximum: 3600,
      default: 30,
      description:
        'How often each gateway pod probes the upstream (an MCP initialize in a session of its own) for status.upstream and the UpstreamReachable condition.',
    }),
    resources: Type.Optional(ResourceRequirements),
    nodeSelector: Type.Optional(stringMap('Node labels the gateway pods must be scheduled on.')),
    tolerations: Type.Optional(
      Type.Array(Toleration, { maxItems: 32, description: 'Tolerations of the gateway pods.' }),
    ),
    affinity: Type.Optional(Affinity),
    securityContext: Type.Optional(SecurityContextOverrides),
  },
  {
    description:
      'A remote MCP endpoint governed through a gateway: a Deployment of the Portcullis sidecar alone, whose NetworkPolicy lets it reach DNS and the ports of the upstream and of the services the sidecar itself uses.',
    'x-kubernetes-validations': [
      {
        rule: `self.url.startsWith('https://') || (self.allowInClusterHttp && self.url.matches('${IN_CLUSTER_HTTP_URL.replaceAll('\\', '\\\\')}'))`,
        message:
          'url must be https; plain http only with allowInClusterHttp: true and an in-cluster Service host (<service>.<namespace>.svc[.<cluster domain>])',
        fieldPath: '.url',
      },
      {
        rule: "!has(self.tls) || self.url.startsWith('https://')",
        message: 'tls applies to an https url only',
        fieldPath: '.tls',
      },
    ],
  },
);
export type ExternalSource = Type.Static<typeof ExternalSource>;
