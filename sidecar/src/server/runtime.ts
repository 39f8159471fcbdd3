import type { Logger } from 'pino';
import { createAuthenticator } from '../authn/authenticator.ts';
import type { Authenticator } from '../authn/index.ts';
import { compilePolicy, decide, filterListResult } from '../authz/index.ts';
import type { EffectiveConfig } from '../config/load.ts';
import { classifyMethod } from '../contract/methods.ts';
import type { PinBook } from '../pinning/book.ts';
import type { PolicyPort } from '../pipeline/ports.ts';
import type { Recorder } from '../pipeline/record.ts';
import type { Runtime } from '../pipeline/runtime.ts';
import type { SessionBindings } from '../pipeline/sessions.ts';
import type { McpTracing } from '../telemetry/tracing.ts';
import { compileOriginPolicy } from '../transport/headers.ts';
import type { ParamHeaderCatalog } from '../transport/param-headers.ts';
import type { CredentialSource } from '../upstream/credentials/index.ts';
import { resolveInjectedHeaders } from '../upstream/headers.ts';
import type { UpstreamClient } from '../upstream/http.ts';

// Compiles one configuration into a Runtime: authenticator, policy, origins, upstream credentials.
// Throws (naming the config path) when anything cannot be compiled, so a bad reload changes nothing.

export interface RuntimeDeps {
  readonly sessions: SessionBindings;
  readonly recorder: Recorder;
  /** The upstream client for this configuration's upstream (reused across reloads when unchanged). */
  readonly upstream: UpstreamClient;
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly fetch?: typeof fetch;
  readonly logger?: Logger | undefined;
  readonly paramHeaders: ParamHeaderCatalog;
  /** Sees the upstream's own tools/list results (before filtering), e.g. for metric labels. */
  readonly onToolList?: (result: unknown) => void;
  readonly tracing?: McpTracing | undefined;
  /** Pinned definitions: held ones are hidden from lists and their calls refused. */
  readonly pins?: PinBook | undefined;
  /** Headers the sidecar itself adds to upstream requests, besides the configured ones (the stdio bridge's token). */
  readonly ownUpstreamHeaders?: Readonly<Record<string, string>>;
  /** Built from upstream.auth, kept across reloads that leave it unchanged (its token cache with it). */
  readonly credentials?: CredentialSource | undefined;
}

export interface BuiltRuntime {
  readonly runtime: Runtime;
  readonly authenticator: Authenticator;
}

export function policyPort(
  config: EffectiveConfig,
  onToolList?: (result: unknown) => void,
  pins?: PinBook,
): PolicyPort {
  const policy = compilePolicy(config.authorization.rules);
  const server = config.server.name;
  return {
    decide(principal, request) {
      const d = decide(policy, principal, request);
      if (d.effect === 'deny') return d;
      // Held definitions are refused after the rules allowed the call, so a caller the rules
      // refuse learns nothing about the server's definitions.
      const hold =
        pins === undefined
          ? undefined
          : request.tool !== undefined && request.method === 'tools/call'
            ? pins.holdOfCall('tool', request.tool)
            : request.prompt !== undefined && request.method === 'prompts/get'
              ? pins.holdOfCall('prompt', request.prompt)
              : undefined;
      if (hold === undefined) return d;
      const data: Record<string, unknown> = { observedDigest: hold.observed };
      if (hold.pinned !== undefined) data.pinnedDigest = hold.pinned;
      return { effect: 'deny', reason: hold.message, data };
    },
    filtersReplies: (method) =>
      classifyMethod(method).kind === 'list' || (pins !== undefined && method === 'initialize'),
    filterResult(principal, method, result) {
      if (onToolList !== undefined && method === 'tools/list') onToolList(result);
      if (pins !== undefined) {
        if (method === 'initialize') return pins.filterInitialize(result);
        result = pins.filterList(method, result);
      }
      return filterListResult(policy, principal, method, result, server);
    },
  };
}

export function* toolNames(result: unknown): Iterable<string> {
  const tools = (result as { tools?: unknown } | null)?.tools;
  if (!Array.isArray(tools)) return;
  for (const t of tools)
    if (typeof (t as { name?: unknown })?.name === 'string') yield (t as { name: string }).name;
}

export function buildRuntime(config: EffectiveConfig, deps: RuntimeDeps): BuiltRuntime {
  const policy = policyPort(config, deps.onToolList, deps.pins);
  const upstreamHeaders = { ...resolveInjectedHeaders(config, deps.env), ...deps.ownUpstreamHeaders };
  const authDeps: Parameters<typeof createAuthenticator>[1] = { canonicalUri: config.server.canonicalUri };
  if (deps.fetch) authDeps.fetch = deps.fetch;
  if (deps.logger) authDeps.logger = deps.logger;
  const authenticator = createAuthenticator(config.authentication, authDeps);
  const runtime: Runtime = {
    config,
    authenticator,
    policy,
    upstream: deps.upstream,
    upstreamHeaders,
    credentials: deps.credentials,
    origins: compileOriginPolicy(config.allowedOrigins, config.server.canonicalUri, config.listen.host),
    recorder: deps.recorder,
    sessions: deps.sessions,
    paramHeaders: deps.paramHeaders,
    tracing: config.telemetry?.tracing?.enabled === false ? undefined : deps.tracing,
  };
  return { runtime, authenticator };
}
