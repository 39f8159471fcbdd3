import type { HostedSource } from '../api/hosted-source.ts';
import type { McpServer } from '../api/mcp-server.ts';
import type { OperatorDefaults } from '../api/operator-defaults.ts';

// Where things live in a rendered pod, and the server's endpoint: container names, mount paths, the
// sidecar's command line, ports and URLs. One place, so the Deployment, the sidecar configuration
// and the Service agree.

export const MCP_CONTAINER = 'mcp-server';
export const SIDECAR_CONTAINER = 'portcullis-sidecar';

export const CONFIG_DIR = '/etc/portcullis/config';
/** Key of the ConfigMap and file name in CONFIG_DIR. The sidecar reads YAML or JSON. */
export const CONFIG_FILE = 'sidecar.json';
export const TOKEN_DIR = '/var/run/secrets/portcullis/serviceaccount';
export const TOKEN_FILE = `${TOKEN_DIR}/token`;
export const CA_FILE = `${TOKEN_DIR}/ca.crt`;
export const API_KEYS_DIR = '/etc/portcullis/api-keys';

export const SIDECAR_ARGS = ['--config', `${CONFIG_DIR}/${CONFIG_FILE}`];

/** Named ports of the sidecar container; the Service and probes refer to them by name. */
export const PORT_NAMES = { mcp: 'mcp', metrics: 'metrics' } as const;

/** Pod-template annotation with the hash of settings the sidecar reads only at start. */
export const RESTART_HASH_ANNOTATION = 'portcullis.dev/restart-hash';

export const DEFAULT_PATHS = { 'streamable-http': '/mcp', sse: '/sse' } as const;

export type Endpoint = {
  /** Path clients use, the same on the sidecar and the MCP server. */
  path: string;
  /** Where the sidecar forwards to, inside the pod. */
  upstreamUrl: string;
  /** In-cluster URL of the Service, which is also the RFC 8707 resource (the token audience). */
  url: string;
};

/**
 * Pure: the endpoint of a hosted server. A stdio server is served to callers over Streamable HTTP
 * at /mcp; its upstreamUrl is unused (the sidecar reaches it through the launcher's socket).
 */
export function hostedEndpoint(
  server: McpServer,
  hosted: HostedSource,
  defaults: OperatorDefaults,
): Endpoint {
  const transport = hosted.transport === 'sse' ? 'sse' : 'streamable-http';
  const path =
    hosted.transport === 'stdio'
      ? DEFAULT_PATHS['streamable-http']
      : (hosted.path ?? DEFAULT_PATHS[transport]);
  const { name, namespace } = server.metadata;
  const host = `${name}.${namespace}.svc.${defaults.clusterDomain}`;
  const port = defaults.sidecar.servicePort === 80 ? '' : `:${defaults.sidecar.servicePort}`;
  return {
    path,
    upstreamUrl: `http://127.0.0.1:${hosted.port}${path}`,
    url: `http://${host}${port}${path}`,
  };
}
