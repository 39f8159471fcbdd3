import type { Logger } from 'pino';
import { createAuthenticator } from '../authn/authenticator.ts';
import type { Authenticator } from '../authn/index.ts';
import type { EffectiveConfig } from '../config/load.ts';
import type { Decision } from '../contract/decision.ts';
import { compilePolicy, decide, decideDryRun, filterListResult } from '../contract/index.ts';
import { classifyMethod } from '../contract/methods.ts';
import type { PinBook } from '../pinning/book.ts';
import type { PolicyPort } from '../pipeline/ports.ts';
import type { Runtime } from '../pipeline/runtime.ts';
import type { SessionBindings } from '../pipeline/sessions.ts';
import { createRateLimiter, type RateLimitState } from '../ratelimit/limiter.ts';
import type { Recorder } from '../record/mcp-record.ts';
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
  /** Sees the upstream's initialize results (its serverInfo), e.g. for the gateway's status report. */
  readonly onInitialize?: ((result: unknown) => void) | undefined;
  readonly tracing?: McpTracing | undefined;
  /** Pinned definitions: held ones are hidden from lists and their calls refused. */
  readonly pins?: PinBook | undefined;
  /** Headers the sidecar itself adds to upstream requests, besides the configured ones (the stdio bridge's token). */
  readonly ownUpstreamHeaders?: Readonly<Record<string, string>>;
  /** Built from upstream.auth, kept across reloads that leave it unchanged (its token cache with it). */
  readonly credentials?: CredentialSource | undefined;
  /** Token buckets of the rate limits, kept across reloads for limits that did not change. */
  readonly rateLimits: RateLimitState;
}

export interface BuiltRuntime {
  readonly runtime: Runtime;
  readonly authenticator: Authenticator;
}

export function policyPort(
  config: EffectiveConfig,
  onToolList?: (result: unknown) => void,
  pins?: PinBook,
  onInitialize?: (result: unknown) => void,
): PolicyPort {
  const policy = compilePolicy(config.authorization.rules);
  const server = config.server.name;
  // Held definitions are refused after the rules allowed the call, so a caller the rules refuse
  // learns nothing about the server's definitions.
  const held = (request: Parameters<PolicyPort['decide']>[1]): Decision | undefined => {
    const hold =
      pins === undefined
        ? undefined
        : request.tool !== undefined && request.method === 'tools/call'
          ? pins.holdOfCall('tool', request.tool)
          : request.prompt !== undefined && request.method === 'prompts/get'
            ? pins.holdOfCall('prompt', request.prompt)
            : request.resource !== undefined && request.method === 'resources/read'
              ? pins.holdOfRead(request.resource)
              : undefined;
    if (hold === undefined) return undefined;
    const data: Record<string, unknown> = { observedDigest: hold.observed };
    if (hold.pinned !== undefined) data.pinnedDigest = hold.pinned;
    return { effect: 'deny', reason: hold.message, data };
  };
  return {
    decide(principal, request) {
      const ruled = decide(policy, principal, request);
      const d = (ruled.effect === 'allow' && held(request)) || ruled;
      // DryRun rules decide nothing; what they would have changed goes to the audit and metrics.
      const dryRun = decideDryRun(policy, principal, request, ruled);
      return dryRun === undefined ? d : { ...d, dryRun };
    },
    filtersReplies: (method) =>
      classifyMethod(method).kind === 'list' ||
      ((pins !== undefined || onInitialize !== undefined) && method === 'initialize'),
    filterResult(principal, method, result) {
      if (onToolList !== undefined && method === 'tools/list') onToolList(result);
      if (method === 'initialize') {
        onInitialize?.(result);
        return pins === undefined ? result : pins.filterInitialize(result);
      }
      if (pins !== undefined) result = pins.filterList(method, result);
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
  const policy = policyPort(config, deps.onToolList, deps.pins, deps.onInitialize);
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
    rateLimiter: createRateLimiter(config.rateLimits ?? [], deps.rateLimits),
    tracing: config.telemetry?.tracing?.enabled === false ? undefined : deps.tracing,
  };
  return { runtime, authenticator };
}
