import type {
  V1Container,
  V1Deployment,
  V1EnvVar,
  V1SeccompProfile,
  V1SecurityContext,
  V1Volume,
  V1VolumeMount,
} from '@kubernetes/client-node';
import type { SidecarConfig } from '../../../sidecar/src/contract/index.ts';
import type { HostedSource } from '../api/hosted-source.ts';
import type { McpServer } from '../api/mcp-server.ts';
import type { OperatorDefaults } from '../api/operator-defaults.ts';
import {
  API_KEYS_DIR,
  CONFIG_DIR,
  MCP_CONTAINER,
  PORT_NAMES,
  RESTART_HASH_ANNOTATION,
  SIDECAR_ARGS,
  SIDECAR_CONTAINER,
  TOKEN_DIR,
} from './layout.ts';
import { childLabels, childMeta, selectorLabels } from './meta.ts';
import { restartHash } from './render-configmap.ts';
import { type StdioPod, stdioPod } from './stdio.ts';
import { renderUpstreamAuth } from './upstream-auth.ts';

// The Deployment: the MCP server container with the Portcullis sidecar beside it. Hardened whatever
// the McpServer says (non-root, read-only root filesystem, no privilege escalation, no capabilities,
// seccomp); no token is mounted automatically, and the one projected token goes to the sidecar only.
// The pod template changes only when something needs a restart: policy and authentication changes
// travel through the ConfigMap, which the sidecar reloads, so they never restart the MCP server.

type Quantities = Record<string, string | number>;
const quantities = (q: Quantities | undefined) =>
  q === undefined ? undefined : Object.fromEntries(Object.entries(q).map(([k, v]) => [k, String(v)]));
export const resources = (r: { requests?: Quantities; limits?: Quantities }) => ({
  ...(r.requests ? { requests: quantities(r.requests) } : {}),
  ...(r.limits ? { limits: quantities(r.limits) } : {}),
});

const VOLUMES = {
  config: 'portcullis-config',
  token: 'portcullis-token',
  apiKeys: 'portcullis-api-keys',
  sidecarTmp: 'portcullis-tmp',
  tmp: 'tmp',
} as const;

export function hardened(
  seccompProfile: V1SeccompProfile,
  ids: { runAsUser?: number } = {},
): V1SecurityContext {
  return {
    runAsNonRoot: true,
    ...(ids.runAsUser === undefined ? {} : { runAsUser: ids.runAsUser, runAsGroup: ids.runAsUser }),
    readOnlyRootFilesystem: true,
    allowPrivilegeEscalation: false,
    privileged: false,
    capabilities: { drop: ['ALL'] },
    seccompProfile,
  };
}

function mcpContainer(
  hosted: HostedSource,
  defaults: OperatorDefaults,
  seccomp: V1SeccompProfile,
  stdio: StdioPod | undefined,
): V1Container {
  const mounts: V1VolumeMount[] = [
    { name: VOLUMES.tmp, mountPath: '/tmp' },
    ...(hosted.writablePaths ?? []).map((mountPath, i) => ({ name: `writable-${i}`, mountPath })),
    ...(stdio?.mcpMounts ?? []),
  ];
  // A stdio server's entrypoint is the launcher, which runs the server's command line per session.
  const entrypoint = stdio
    ? { command: stdio.command }
    : {
        ...(hosted.command ? { command: hosted.command } : {}),
        ...(hosted.args ? { args: hosted.args } : {}),
      };
  return {
    name: MCP_CONTAINER,
    image: hosted.image,
    ...(hosted.imagePullPolicy ? { imagePullPolicy: hosted.imagePullPolicy } : {}),
    ...entrypoint,
    ...(hosted.env ? { env: hosted.env } : {}),
    ...(hosted.envFrom ? { envFrom: hosted.envFrom } : {}),
    resources: resources(hosted.resources ?? defaults.mcpServer.resources),
    securityContext: hardened(seccomp),
    volumeMounts: mounts,
    // Ready once it listens; the sidecar's own readiness covers the path through it.
    ...(hosted.port === undefined
      ? {}
      : { readinessProbe: { tcpSocket: { port: hosted.port }, periodSeconds: 5 } }),
    // Outlives the sidecar's drain: calls in flight at shutdown still reach their server.
    lifecycle: { preStop: { sleep: { seconds: SHUTDOWN.mcpServerDelaySeconds } } },
    terminationMessagePolicy: 'FallbackToLogsOnError',
  };
}

/**
 * Pod shutdown, in order: the sidecar keeps serving for sidecarDelaySeconds (preStop sleep) while
 * endpoints and kube-proxy drop the pod, then on SIGTERM lets calls in flight finish (its drain,
 * at most 20 s) and flushes audit; the MCP server gets SIGTERM only after mcpServerDelaySeconds, so
 * the calls being drained still reach it. The grace period covers both.
 */
const SHUTDOWN = { sidecarDelaySeconds: 5, mcpServerDelaySeconds: 15, gracePeriodSeconds: 30 } as const;

function sidecarEnv(server: McpServer, defaults: OperatorDefaults): V1EnvVar[] {
  const otlp = defaults.telemetry.otlpEndpoint;
  return [
    { name: 'POD_NAME', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } },
    { name: 'POD_NAMESPACE', valueFrom: { fieldRef: { fieldPath: 'metadata.namespace' } } },
    { name: 'LOG_LEVEL', value: defaults.sidecar.logLevel },
    {
      name: 'OTEL_RESOURCE_ATTRIBUTES',
      value: `k8s.namespace.name=$(POD_NAMESPACE),k8s.pod.name=$(POD_NAME),k8s.deployment.name=${server.metadata.name}`,
    },
    ...(otlp ? [{ name: 'OTEL_EXPORTER_OTLP_ENDPOINT', value: otlp }] : []),
  ];
}

/** The sidecar container; `extraMounts` are what its upstream needs (launcher socket, credentials, CA). */
export function sidecarContainer(
  server: McpServer,
  defaults: OperatorDefaults,
  seccomp: V1SeccompProfile,
  extraMounts: readonly V1VolumeMount[],
): V1Container {
  const { sidecar } = defaults;
  const probe = (path: string) => ({ httpGet: { path, port: PORT_NAMES.metrics } });
  return {
    name: SIDECAR_CONTAINER,
    image: sidecar.image,
    imagePullPolicy: sidecar.imagePullPolicy,
    args: SIDECAR_ARGS,
    ports: [
      { name: PORT_NAMES.mcp, containerPort: sidecar.port, protocol: 'TCP' },
      { name: PORT_NAMES.metrics, containerPort: sidecar.adminPort, protocol: 'TCP' },
    ],
    env: sidecarEnv(server, defaults),
    resources: resources(sidecar.resources),
    securityContext: hardened(seccomp, { runAsUser: sidecar.runAsUser }),
    volumeMounts: [
      { name: VOLUMES.config, mountPath: CONFIG_DIR, readOnly: true },
      { name: VOLUMES.token, mountPath: TOKEN_DIR, readOnly: true },
      { name: VOLUMES.sidecarTmp, mountPath: '/tmp' },
      ...(server.spec.authentication?.apiKeys
        ? [{ name: VOLUMES.apiKeys, mountPath: API_KEYS_DIR, readOnly: true }]
        : []),
      ...extraMounts,
    ],
    startupProbe: { ...probe('/healthz'), periodSeconds: 1, failureThreshold: 60 },
    livenessProbe: { ...probe('/healthz'), periodSeconds: 10, failureThreshold: 3 },
    readinessProbe: { ...probe('/readyz'), periodSeconds: 5, failureThreshold: 2 },
    // Keeps serving while the Service drops the terminating pod, so no new call meets a closed port.
    lifecycle: { preStop: { sleep: { seconds: SHUTDOWN.sidecarDelaySeconds } } },
    terminationMessagePolicy: 'FallbackToLogsOnError',
  };
}

/** The sidecar's own volumes: configuration, projected token, /tmp, API keys. */
export function sidecarVolumes(server: McpServer, defaults: OperatorDefaults): V1Volume[] {
  const apiKeys = server.spec.authentication?.apiKeys;
  return [
    { name: VOLUMES.config, configMap: { name: server.metadata.name } },
    {
      name: VOLUMES.token,
      projected: {
        sources: [
          {
            serviceAccountToken: {
              // Absent: the API server's own audience, as for any in-cluster client.
              ...(defaults.sidecar.tokenAudience ? { audience: defaults.sidecar.tokenAudience } : {}),
              expirationSeconds: defaults.sidecar.tokenExpirationSeconds,
              path: 'token',
            },
          },
          { configMap: { name: 'kube-root-ca.crt', items: [{ key: 'ca.crt', path: 'ca.crt' }] } },
          {
            downwardAPI: {
              items: [{ path: 'namespace', fieldRef: { apiVersion: 'v1', fieldPath: 'metadata.namespace' } }],
            },
          },
        ],
      },
    },
    { name: VOLUMES.sidecarTmp, emptyDir: { sizeLimit: '64Mi' } },
    ...(apiKeys
      ? [
          {
            name: VOLUMES.apiKeys,
            secret: {
              secretName: apiKeys.secretRef.name,
              items: [{ key: apiKeys.secretRef.key, path: apiKeys.secretRef.key }],
            },
          },
        ]
      : []),
  ];
}

export function renderDeployment(
  server: McpServer,
  hosted: HostedSource,
  defaults: OperatorDefaults,
  config: SidecarConfig,
): V1Deployment {
  const overrides = hosted.securityContext ?? {};
  const seccomp: V1SeccompProfile = overrides.seccompProfile ?? { type: 'RuntimeDefault' };
  const { seccompProfile: _, ...ids } = overrides;
  const stdio = hosted.transport === 'stdio' ? stdioPod(hosted, defaults, hardened(seccomp)) : undefined;
  const upstreamAuth = renderUpstreamAuth(server.spec.upstreamAuth);
  // The launcher's socket is group-writable: the pod's fsGroup, which both containers hold, lets the
  // sidecar (its own uid) connect to it.
  const fsGroup = stdio && ids.fsGroup === undefined ? { fsGroup: defaults.sidecar.runAsUser } : {};
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: childMeta(server),
    spec: {
      replicas: hosted.replicas,
      revisionHistoryLimit: 3,
      selector: { matchLabels: selectorLabels(server) },
      template: {
        metadata: {
          labels: childLabels(server),
          annotations: {
            [RESTART_HASH_ANNOTATION]: restartHash(config),
            'kubectl.kubernetes.io/default-container': MCP_CONTAINER,
          },
        },
        spec: {
          serviceAccountName: server.metadata.name,
          automountServiceAccountToken: false,
          enableServiceLinks: false,
          terminationGracePeriodSeconds: SHUTDOWN.gracePeriodSeconds,
          securityContext: { runAsNonRoot: true, seccompProfile: seccomp, ...ids, ...fsGroup },
          ...(stdio ? { initContainers: [stdio.initContainer] } : {}),
          containers: [
            mcpContainer(hosted, defaults, seccomp, stdio),
            sidecarContainer(server, defaults, seccomp, [
              ...(stdio?.sidecarMounts ?? []),
              ...(upstreamAuth ? [upstreamAuth.mount] : []),
            ]),
          ],
          volumes: [
            ...sidecarVolumes(server, defaults),
            { name: VOLUMES.tmp, emptyDir: {} },
            ...(hosted.writablePaths ?? []).map((_, i) => ({ name: `writable-${i}`, emptyDir: {} })),
            ...(stdio?.volumes ?? []),
            ...(upstreamAuth ? [upstreamAuth.volume] : []),
          ],
          ...(hosted.imagePullSecrets ? { imagePullSecrets: hosted.imagePullSecrets } : {}),
          ...(hosted.nodeSelector ? { nodeSelector: hosted.nodeSelector } : {}),
          ...(hosted.tolerations ? { tolerations: hosted.tolerations } : {}),
          ...(hosted.affinity ? { affinity: hosted.affinity } : {}),
        },
      },
    },
  };
}
