import Type from 'typebox';
import {
  Affinity,
  EnvFromSource,
  EnvVar,
  LocalObjectReference,
  ResourceRequirements,
  stringMap,
  Toleration,
} from './kube-types.ts';

// spec.hosted of an McpServer: a server the operator runs as a Deployment, with the Portcullis
// sidecar in front. Part of the McpServer schema (mcp-server.ts), kept apart for its size.

export const TRANSPORTS = ['streamable-http', 'sse', 'stdio'] as const;
export type Transport = (typeof TRANSPORTS)[number];

const port = (description: string) => Type.Integer({ minimum: 1, maximum: 65535, description });
const absolutePath = (description: string) =>
  Type.String({ minLength: 1, maxLength: 1024, pattern: '^/[^\\s]*$', description });

const SeccompProfile = Type.Object(
  {
    type: Type.Union([Type.Literal('RuntimeDefault'), Type.Literal('Localhost')], {
      description: 'RuntimeDefault or Localhost. Unconfined is not allowed.',
    }),
    localhostProfile: Type.Optional(
      Type.String({ minLength: 1, maxLength: 1024, description: 'Profile file on the node, for Localhost.' }),
    ),
  },
  {
    description: 'Seccomp profile of every container (default RuntimeDefault).',
    'x-kubernetes-validations': [
      {
        rule: "self.type == 'Localhost' ? has(self.localhostProfile) : !has(self.localhostProfile)",
        message: 'localhostProfile is required with type Localhost and not allowed otherwise',
      },
    ],
  },
);

// Only settings that cannot weaken the hardening: ids must be non-root, seccomp cannot be Unconfined,
// and there is no way to switch off runAsNonRoot, the read-only root filesystem or dropped capabilities.
export const SecurityContextOverrides = Type.Object(
  {
    runAsUser: Type.Optional(
      Type.Integer({
        minimum: 1,
        maximum: 2147483647,
        description: 'UID of the MCP server process (not 0).',
      }),
    ),
    runAsGroup: Type.Optional(
      Type.Integer({
        minimum: 1,
        maximum: 2147483647,
        description: 'GID of the MCP server process (not 0).',
      }),
    ),
    fsGroup: Type.Optional(
      Type.Integer({
        minimum: 1,
        maximum: 2147483647,
        description: 'Group that owns mounted volumes (not 0).',
      }),
    ),
    supplementalGroups: Type.Optional(
      Type.Array(Type.Integer({ minimum: 1, maximum: 2147483647 }), {
        maxItems: 32,
        description: 'Additional GIDs of the MCP server process (not 0).',
      }),
    ),
    seccompProfile: Type.Optional(SeccompProfile),
  },
  {
    description:
      'Pod security settings that may be changed. The hardening (non-root, read-only root filesystem, no privilege escalation, all capabilities dropped) always applies.',
  },
);
export type SecurityContextOverrides = Type.Static<typeof SecurityContextOverrides>;

// How a stdio server's processes are run in each pod: by the Portcullis launcher, one process per MCP
// session, within these limits (rendered into the sidecar's upstream.processes).
export const StdioSettings = Type.Object(
  {
    maxProcesses: Type.Integer({
      minimum: 1,
      maximum: 1024,
      default: 16,
      description:
        'Most server processes alive at once in each pod (warm ones included); a new session past it gets HTTP 503.',
    }),
    warm: Type.Integer({
      minimum: 0,
      maximum: 1024,
      default: 0,
      description:
        'Processes started ahead in each pod and handed to new sessions, hiding start-up time (npx, uvx).',
    }),
    idleTimeoutSeconds: Type.Integer({
      minimum: 1,
      maximum: 3600,
      default: 600,
      description:
        "A session's process with no message either way and no request in flight is stopped after this.",
    }),
    stopGraceSeconds: Type.Integer({
      minimum: 1,
      maximum: 300,
      default: 5,
      description: 'Time a stopped process group has between SIGTERM and SIGKILL.',
    }),
  },
  {
    description: 'Limits of the stdio transport: one server process (group) per MCP session in each pod.',
    'x-kubernetes-validations': [
      {
        rule: 'self.warm <= self.maxProcesses',
        message: 'warm must not exceed maxProcesses',
        fieldPath: '.warm',
      },
    ],
  },
);
export type StdioSettings = Type.Static<typeof StdioSettings>;

export const HostedSource = Type.Object(
  {
    image: Type.String({ minLength: 1, maxLength: 1024, description: 'Container image of the MCP server.' }),
    imagePullPolicy: Type.Optional(
      Type.Union([Type.Literal('Always'), Type.Literal('IfNotPresent'), Type.Literal('Never')], {
        description: 'Always, IfNotPresent or Never (Kubernetes default: IfNotPresent unless :latest).',
      }),
    ),
    imagePullSecrets: Type.Optional(
      Type.Array(LocalObjectReference, { maxItems: 16, description: 'Secrets for pulling the image.' }),
    ),
    transport: Type.Enum(TRANSPORTS, {
      default: 'streamable-http',
      description:
        'How the MCP server speaks: streamable-http, sse (the legacy HTTP+SSE transport) or stdio. Clients reach it through the sidecar with the same transport and path.',
    }),
    port: Type.Optional(
      port(
        'Port the MCP server listens on inside the pod (required for streamable-http and sse). It must differ from the sidecar ports.',
      ),
    ),
    path: Type.Optional(
      absolutePath(
        'Path of the MCP endpoint: default /mcp for streamable-http, /sse for sse. Clients use the same path on the sidecar.',
      ),
    ),
    command: Type.Optional(
      Type.Array(Type.String({ maxLength: 4096 }), {
        maxItems: 64,
        description:
          "Entrypoint override (the image's ENTRYPOINT when omitted). Required for stdio: the server's command line, which the Portcullis launcher runs once per MCP session.",
      }),
    ),
    args: Type.Optional(
      Type.Array(Type.String({ maxLength: 4096 }), {
        maxItems: 256,
        description: "Arguments (the image's CMD when omitted).",
      }),
    ),
    env: Type.Optional(
      Type.Array(EnvVar, {
        maxItems: 128,
        'x-kubernetes-list-type': 'map',
        'x-kubernetes-list-map-keys': ['name'],
        description:
          'Environment variables of the MCP server. Use valueFrom.secretKeyRef for its credentials.',
      }),
    ),
    envFrom: Type.Optional(
      Type.Array(EnvFromSource, {
        maxItems: 16,
        description: 'Environment variables from Secrets or ConfigMaps.',
      }),
    ),
    resources: Type.Optional(ResourceRequirements),
    replicas: Type.Integer({
      minimum: 0,
      maximum: 1000,
      default: 1,
      description: 'Number of pods. A PodDisruptionBudget is created when more than 1.',
    }),
    writablePaths: Type.Optional(
      Type.Array(absolutePath('A directory the MCP server may write.'), {
        maxItems: 16,
        description:
          'Directories backed by an empty, pod-local volume, since the root filesystem is read-only. /tmp is always writable.',
      }),
    ),
    nodeSelector: Type.Optional(stringMap('Node labels the pods must be scheduled on.')),
    tolerations: Type.Optional(
      Type.Array(Toleration, { maxItems: 32, description: 'Tolerations of the pods.' }),
    ),
    affinity: Type.Optional(Affinity),
    securityContext: Type.Optional(SecurityContextOverrides),
    stdio: Type.Optional(StdioSettings),
  },
  {
    description:
      'An MCP server the operator runs: a Deployment of the image with the Portcullis sidecar in front.',
    'x-kubernetes-validations': [
      {
        rule: "self.transport == 'stdio' || has(self.port)",
        message: 'port is required for the streamable-http and sse transports',
        fieldPath: '.port',
      },
      {
        rule: "self.transport != 'stdio' || (!has(self.port) && !has(self.path))",
        message: 'port and path do not apply to the stdio transport',
      },
      {
        rule: "self.transport != 'stdio' || (has(self.command) && size(self.command) > 0)",
        message:
          "command is required for the stdio transport: the launcher runs it (the image's ENTRYPOINT is replaced)",
        fieldPath: '.command',
      },
      {
        rule: "self.transport == 'stdio' || !has(self.stdio)",
        message: 'stdio applies only to the stdio transport',
        fieldPath: '.stdio',
      },
    ],
  },
);
export type HostedSource = Type.Static<typeof HostedSource>;
