import Value from 'typebox/value';
import {
  Authentication,
  type CaptureLevel,
  CONFIG_API_VERSION,
  type ConfiguredRule,
  type SidecarConfig,
  Upstream,
} from '../../../sidecar/src/contract/index.ts';
import type { ClusterMcpPolicy } from '../api/cluster-mcp-policy.ts';
import type { HostedSource } from '../api/hosted-source.ts';
import type { McpPolicy } from '../api/mcp-policy.ts';
import { CAPTURE_LEVELS, type McpServer } from '../api/mcp-server.ts';
import type { OperatorDefaults } from '../api/operator-defaults.ts';
import { clusterPolicyRef } from '../policy/cluster.ts';
import { policyRef } from '../policy/ref.ts';
import { API_KEYS_DIR, CA_FILE, type Endpoint, TOKEN_FILE } from './layout.ts';
import { stdioUpstream } from './stdio.ts';
import { toolsAllowListRule } from './tools-allow-list.ts';
import { renderUpstreamAuth } from './upstream-auth.ts';

// The sidecar's configuration (the contract sidecar/src/contract/ owns), built from the
// McpServer, the McpPolicies that select it and the cluster's defaults. Pure and deterministic:
// the same inputs give the same text, so an unchanged cluster renders an unchanged ConfigMap.

type Oidc = NonNullable<SidecarConfig['authentication']['oidc']>[number];
const OidcSchema = Authentication.properties.oidc.items;

const unique = (items: readonly string[]) => [...new Set(items)];

const byName = <T extends { metadata: { name: string } }>(items: readonly T[]) =>
  [...items].sort((a, b) => a.metadata.name.localeCompare(b.metadata.name));

/**
 * Rules in a fixed order: the server's allow list, then ClusterMcpPolicies by name, then McpPolicies
 * by name, each in its own order. A matching deny wins wherever it is; among matching denies (and
 * among allows) the first in this order is the one that decides and is named, so a cluster
 * guardrail is reported as the reason even when a namespaced rule denies too.
 */
export function configuredRules(
  server: McpServer,
  policies: readonly McpPolicy[],
  clusterPolicies: readonly ClusterMcpPolicy[] = [],
): ConfiguredRule[] {
  const allowList = toolsAllowListRule(server);
  return [
    ...(allowList ? [allowList] : []),
    ...byName(clusterPolicies).flatMap((p) =>
      p.spec.rules.map((rule) => ({ ...rule, policy: clusterPolicyRef(p) })),
    ),
    ...byName(policies).flatMap((p) => p.spec.rules.map((rule) => ({ ...rule, policy: policyRef(p) }))),
  ];
}

function authentication(
  server: McpServer,
  endpoint: Endpoint,
  defaults: OperatorDefaults,
): SidecarConfig['authentication'] {
  const auth = server.spec.authentication;
  const audiences = unique([endpoint.url, ...(auth?.audiences ?? [])]);
  const oidc: Oidc[] = [
    ...defaults.authentication.oidc.map((p) => ({ ...p, audiences: p.audiences ?? audiences })),
    ...(auth?.issuers ?? []).map(
      (i) => Value.Default(OidcSchema, { ...i, audiences: i.audiences ?? audiences }) as Oidc,
    ),
  ];
  const sa = defaults.authentication.serviceAccounts;
  const requiredScopes = unique([
    ...(defaults.authentication.requiredScopes ?? []),
    ...(auth?.requiredScopes ?? []),
  ]);
  return {
    allowAnonymous: auth?.allowAnonymous ?? false,
    ...(requiredScopes.length > 0 ? { requiredScopes } : {}),
    ...(oidc.length > 0 ? { authorizationServers: unique(oidc.map((o) => o.issuer)), oidc } : {}),
    ...(sa
      ? {
          serviceAccounts: {
            ...sa,
            audiences: sa.audiences ?? audiences,
            caFile: sa.caFile ?? CA_FILE,
            tokenFile: sa.tokenFile ?? TOKEN_FILE,
          },
        }
      : {}),
    ...(auth?.apiKeys ? { apiKeysFile: `${API_KEYS_DIR}/${auth.apiKeys.secretRef.key}` } : {}),
  };
}

/** The cluster's capture level, raised (never lowered) by the server's. */
function capture(server: McpServer, defaults: OperatorDefaults): CaptureLevel {
  const cluster = defaults.audit.payloads?.capture ?? 'metadata';
  const wanted = server.spec.audit?.payloads;
  if (wanted === undefined) return cluster;
  return CAPTURE_LEVELS.indexOf(wanted) > CAPTURE_LEVELS.indexOf(cluster) ? wanted : cluster;
}

/** Pure: the sidecar configuration of a hosted server served over HTTP at `endpoint`. */
export function buildSidecarConfig(
  server: McpServer,
  hosted: HostedSource,
  policies: readonly McpPolicy[],
  defaults: OperatorDefaults,
  endpoint: Endpoint,
  clusterPolicies: readonly ClusterMcpPolicy[] = [],
): SidecarConfig {
  const upstream =
    hosted.transport === 'stdio'
      ? stdioUpstream(hosted)
      : (Value.Default(Upstream, {
          transport: hosted.transport,
          url: endpoint.upstreamUrl,
          ...(server.spec.upstreamAuth ? { auth: renderUpstreamAuth(server.spec.upstreamAuth)?.auth } : {}),
        }) as SidecarConfig['upstream']);
  return {
    apiVersion: CONFIG_API_VERSION,
    kind: 'SidecarConfig',
    server: {
      name: server.metadata.name,
      namespace: server.metadata.namespace,
      canonicalUri: endpoint.url,
    },
    listen: { host: '0.0.0.0', port: defaults.sidecar.port, path: endpoint.path },
    admin: { host: '0.0.0.0', port: defaults.sidecar.adminPort },
    upstream,
    ...(defaults.limits ? { limits: defaults.limits } : {}),
    authentication: authentication(server, endpoint, defaults),
    authorization: { rules: configuredRules(server, policies, clusterPolicies) },
    audit: {
      ...defaults.audit,
      payloads: { ...defaults.audit.payloads, capture: capture(server, defaults) },
    },
    telemetry: defaults.telemetry.sidecar,
    pinning: pinning(server),
  };
}

/** The pinning section: TrustOnFirstUse unless the server says otherwise, with its approved pins. */
function pinning(server: McpServer): NonNullable<SidecarConfig['pinning']> {
  const spec = server.spec.tools;
  const out: NonNullable<SidecarConfig['pinning']> = { mode: spec?.pinning?.mode ?? 'TrustOnFirstUse' };
  if (spec?.pins !== undefined && spec.pins.length > 0) out.pins = spec.pins;
  return out;
}

/** The part of the configuration the sidecar reads only when it starts; a change rolls the pods. */
export function restartRelevant(config: SidecarConfig): unknown {
  return {
    listen: config.listen,
    admin: config.admin,
    upstream: config.upstream,
    telemetry: config.telemetry,
    // Pinning's own session starts with the sidecar: switching it on or off needs a new pod.
    pinning: (config.pinning?.mode ?? 'Off') !== 'Off',
  };
}
