import type { EffectiveConfig } from '../config/load.ts';
import type { McpTracing } from '../telemetry/tracing.ts';
import type { OriginPolicy } from '../transport/headers.ts';
import type { ParamHeaderCatalog } from '../transport/param-headers.ts';
import type { CredentialSource } from '../upstream/credentials/index.ts';
import type { UpstreamClient } from '../upstream/http.ts';
import type { AuthenticatorPort, PolicyPort } from './ports.ts';
import type { Recorder } from './record.ts';
import type { SessionBindings } from './sessions.ts';

// Everything compiled from one configuration: swapped as a whole on reload, so a request sees one
// consistent configuration from its first stage to its last.

export interface Runtime {
  readonly config: EffectiveConfig;
  readonly authenticator: AuthenticatorPort;
  readonly policy: PolicyPort;
  readonly upstream: UpstreamClient;
  /** Headers injected into every upstream request (resolved from env/files at load). */
  readonly upstreamHeaders: Readonly<Record<string, string>>;
  /** The caller's upstream credential (upstream.auth); undefined when none is configured. */
  readonly credentials: CredentialSource | undefined;
  readonly origins: OriginPolicy;
  readonly recorder: Recorder;
  /** Shared across reloads: reloading must not drop sessions. */
  readonly sessions: SessionBindings;
  /** Mcp-Param-* declarations of the upstream's tools, shared across reloads. */
  readonly paramHeaders: ParamHeaderCatalog;
  /** Spans per message and context propagation; undefined when tracing is off. */
  readonly tracing: McpTracing | undefined;
}
