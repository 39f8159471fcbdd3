import type { V1Deployment, V1SeccompProfile, V1Volume, V1VolumeMount } from '@kubernetes/client-node';
import Value from 'typebox/value';
import { type SidecarConfig, Upstream } from '../../../sidecar/src/contract/index.ts';
import type { ExternalSource } from '../api/external-source.ts';
import type { McpServer } from '../api/mcp-server.ts';
import type { OperatorDefaults } from '../api/operator-defaults.ts';
import { RESTART_HASH_ANNOTATION, SIDECAR_CONTAINER } from './layout.ts';
import { childLabels, childMeta, selectorLabels } from './meta.ts';
import { restartHash } from './render-configmap.ts';
import { resources, sidecarContainer, sidecarVolumes } from './render-deployment.ts';
import { renderUpstreamAuth } from './upstream-auth.ts';

// An external server (spec.external): the sidecar alone in a gateway Deployment, forwarding to a URL
// outside the pod. Same hardening, configuration, token and credentials as beside a hosted server;
// no MCP container. The CA bundle, when given, is projected from its Secret or ConfigMap key into the
// sidecar only, as a file the sidecar watches, so a rotated CA needs no restart.

export const UPSTREAM_CA_DIR = '/etc/portcullis/upstream-ca';
export const UPSTREAM_CA_FILE = `${UPSTREAM_CA_DIR}/ca.crt`;
const UPSTREAM_CA_VOLUME = 'portcullis-upstream-ca';

/** The projected CA bundle, when spec.external.tls.caBundle names one. */
export function upstreamCaVolume(
  external: ExternalSource,
): { volume: V1Volume; mount: V1VolumeMount } | undefined {
  const ca = external.tls?.caBundle;
  if (ca === undefined) return undefined;
  const items = (key: string) => [{ key, path: 'ca.crt' }];
  const source = ca.secretKeyRef
    ? { secret: { name: ca.secretKeyRef.name, items: items(ca.secretKeyRef.key) } }
    : { configMap: { name: ca.configMapKeyRef?.name, items: items(ca.configMapKeyRef?.key ?? '') } };
  return {
    volume: { name: UPSTREAM_CA_VOLUME, projected: { sources: [source] } },
    mount: { name: UPSTREAM_CA_VOLUME, mountPath: UPSTREAM_CA_DIR, readOnly: true },
  };
}

/**
 * Pure: the sidecar's upstream section for spec.external. The gateway probes the upstream and
 * reports into the McpServer's status with the pod's ServiceAccount token (docs/external-servers.md).
 */
export function externalUpstream(server: McpServer, external: ExternalSource): SidecarConfig['upstream'] {
  const tls = external.tls;
  const tlsSection = {
    ...(tls?.caBundle ? { caFile: UPSTREAM_CA_FILE } : {}),
    ...(tls?.serverName ? { serverName: tls.serverName } : {}),
  };
  const auth = renderUpstreamAuth(server.spec.upstreamAuth)?.auth;
  return Value.Default(Upstream, {
    transport: external.transport,
    url: external.url,
    ...(Object.keys(tlsSection).length > 0 ? { tls: tlsSection } : {}),
    ...(auth ? { auth } : {}),
    probe: {
      intervalMs: external.probeIntervalSeconds * 1000,
      reportStatus: true,
    },
  }) as SidecarConfig['upstream'];
}

/** The gateway Deployment: one hardened container, the sidecar, with what its upstream needs mounted. */
export function renderGatewayDeployment(
  server: McpServer,
  external: ExternalSource,
  defaults: OperatorDefaults,
  config: SidecarConfig,
): V1Deployment {
  const overrides = external.securityContext ?? {};
  const seccomp: V1SeccompProfile = overrides.seccompProfile ?? { type: 'RuntimeDefault' };
  const { seccompProfile: _, ...ids } = overrides;
  const upstreamAuth = renderUpstreamAuth(server.spec.upstreamAuth);
  const ca = upstreamCaVolume(external);
  const sidecar = sidecarContainer(server, defaults, seccomp, [
    ...(upstreamAuth ? [upstreamAuth.mount] : []),
    ...(ca ? [ca.mount] : []),
  ]);
  if (external.resources) sidecar.resources = resources(external.resources);
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: childMeta(server),
    spec: {
      replicas: external.replicas,
      revisionHistoryLimit: 3,
      selector: { matchLabels: selectorLabels(server) },
      template: {
        metadata: {
          labels: childLabels(server),
          annotations: {
            [RESTART_HASH_ANNOTATION]: restartHash(config),
            'kubectl.kubernetes.io/default-container': SIDECAR_CONTAINER,
          },
        },
        spec: {
          serviceAccountName: server.metadata.name,
          automountServiceAccountToken: false,
          enableServiceLinks: false,
          securityContext: { runAsNonRoot: true, seccompProfile: seccomp, ...ids },
          containers: [sidecar],
          volumes: [
            ...sidecarVolumes(server, defaults),
            ...(upstreamAuth ? [upstreamAuth.volume] : []),
            ...(ca ? [ca.volume] : []),
          ],
          ...(external.nodeSelector ? { nodeSelector: external.nodeSelector } : {}),
          ...(external.tolerations ? { tolerations: external.tolerations } : {}),
          ...(external.affinity ? { affinity: external.affinity } : {}),
        },
      },
    },
  };
}
