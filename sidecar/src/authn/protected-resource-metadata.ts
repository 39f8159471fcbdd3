// RFC 9728 OAuth 2.0 Protected Resource Metadata for this MCP server: the document, and where it is
// served. The MCP authorization spec has clients derive the metadata URL from the server URL, or
// read it from the 401 challenge, so both forms are served with the same document.

const WELL_KNOWN = '/.well-known/oauth-protected-resource';

export interface ProtectedResourceMetadata {
  resource: string;
  authorization_servers?: string[];
  bearer_methods_supported: string[];
  scopes_supported?: string[];
  resource_name?: string;
}

export interface MetadataLocation {
  /** Absolute URL advertised in `WWW-Authenticate: Bearer resource_metadata="..."` (RFC 9728 §3.1). */
  url: string;
  /** Request paths the sidecar answers with the document: the path-suffixed form first, then the root form. */
  paths: readonly string[];
}

/**
 * RFC 9728 §3.1: the well-known suffix goes between the host and the resource's path, so
 * `https://h/mcp` is described at `https://h/.well-known/oauth-protected-resource/mcp`.
 * A resource without a path is described at the root form only.
 */
export function metadataLocation(canonicalUri: string): MetadataLocation {
  const uri = new URL(canonicalUri);
  const path = uri.pathname === '/' ? '' : uri.pathname;
  const suffixed = `${WELL_KNOWN}${path}`;
  return {
    url: `${uri.origin}${suffixed}`,
    paths: path === '' ? [WELL_KNOWN] : [suffixed, WELL_KNOWN],
  };
}

export interface MetadataInput {
  canonicalUri: string;
  /** Authorization servers to advertise; default: the configured OIDC issuers. */
  authorizationServers?: readonly string[];
  oidcIssuers?: readonly string[];
  requiredScopes?: readonly string[];
  resourceName?: string;
}

export function protectedResourceMetadata(input: MetadataInput): ProtectedResourceMetadata {
  const servers = input.authorizationServers ?? input.oidcIssuers ?? [];
  const doc: ProtectedResourceMetadata = {
    resource: input.canonicalUri,
    bearer_methods_supported: ['header'],
  };
  if (servers.length > 0) doc.authorization_servers = [...servers];
  if (input.requiredScopes && input.requiredScopes.length > 0)
    doc.scopes_supported = [...input.requiredScopes];
  if (input.resourceName) doc.resource_name = input.resourceName;
  return doc;
}
