import type { Logger } from 'pino';
import { type ConfigResult, type EffectiveConfig, formatIssues } from '../config/load.ts';
import { type ConfigWatcher, watchConfigFile } from '../config/watch.ts';
import type { Pinning } from '../pinning/runtime.ts';
import type { SidecarMetrics } from '../telemetry/metrics.ts';
import type { CredentialSource } from '../upstream/credentials/index.ts';
import type { UpstreamClient } from '../upstream/http.ts';
import type { RuntimeHolder } from './app.ts';
import { planReload } from './reload-plan.ts';
import type { BuiltRuntime } from './runtime.ts';

// Hot reload: a new configuration file (watched) → a runtime rebuilt from it → swapped in whole, so a
// request sees one configuration from its first stage to its last and no connection is dropped. What
// is rebuilt and what is kept is planned by reload-plan.ts; a configuration that is invalid or cannot
// be built is refused, the last good one stays in force, and the metrics and the log say so.

export interface ReloadDeps {
  /** The runtime in force; its upstream and credentials are the ones kept when unchanged. */
  readonly holder: RuntimeHolder;
  build(
    config: EffectiveConfig,
    upstream: UpstreamClient,
    credentials: CredentialSource | undefined,
  ): BuiltRuntime;
  newUpstream(config: EffectiveConfig): UpstreamClient;
  newCredentials(config: EffectiveConfig): CredentialSource | undefined;
  /** The upstream is the sidecar's own stdio bridge (fixed at start). */
  readonly stdioBridge: boolean;
  readonly pinning: Pinning | undefined;
  /** What else follows the configuration (metric label sets); before the swap, so it may refuse it. */
  followConfig(config: EffectiveConfig): void;
  readonly metrics: SidecarMetrics;
  readonly logger?: Logger | undefined;
}

/** Applies a configuration result; false (and the old runtime stays) when it is refused. */
export type Reload = (result: ConfigResult) => boolean;

export function createReload(deps: ReloadDeps): Reload {
  const { holder, metrics, logger } = deps;
  const refused = (message: string, detail: object): false => {
    metrics.configReloads.inc({ result: 'failure' });
    metrics.configLastReloadSuccess.set(0);
    logger?.error(detail, `configuration refused, keeping the last good one: ${message}`);
    return false;
  };
  return (result) => {
    if (!result.ok) return refused(formatIssues(result.issues), { issues: result.issues });
    const next = result.config;
    const current = holder.runtime;
    const plan = planReload(current.config, next, {
      stdioBridge: deps.stdioBridge,
      pinning: deps.pinning !== undefined,
    });
    let upstream: UpstreamClient | undefined;
    let credentials: CredentialSource | undefined;
    let built: BuiltRuntime | undefined;
    try {
      upstream = plan.newUpstream ? deps.newUpstream(next) : undefined;
      credentials = plan.newCredentials ? deps.newCredentials(next) : undefined;
      built = deps.build(
        next,
        upstream ?? current.upstream,
        plan.newCredentials ? credentials : current.credentials,
      );
      if (plan.reconfigurePinning) deps.pinning?.reconfigure(next.pinning ?? { mode: 'Off' });
      deps.followConfig(next);
    } catch (err) {
      built?.authenticator.close();
      credentials?.close();
      void upstream?.close().catch(() => {});
      return refused((err as Error).message, { err });
    }
    for (const warning of plan.atNextRestart) logger?.warn(warning);
    for (const w of result.warnings) logger?.warn({ path: w.path }, `configuration: ${w.path}: ${w.message}`);
    const previous = holder.authenticator;
    holder.runtime = built.runtime;
    holder.authenticator = built.authenticator;
    void built.authenticator.warm();
    previous.close();
    if (plan.newCredentials) current.credentials?.close();
    // In-flight streams on the old pool finish; new requests use the new one.
    if (plan.newUpstream) void current.upstream.close().catch(() => {});
    metrics.configReloads.inc({ result: 'success' });
    metrics.configLastReloadSuccess.set(1);
    metrics.configLastReloadSuccessTimestamp.set(Date.now() / 1000);
    logger?.info({ digest: result.digest }, 'configuration reloaded');
    return true;
  };
}

/** Watches the configuration file and hands every changed content to `reload`. */
export function watchAndReload(
  file: string,
  opts: { readonly digest: string; readonly reload: Reload; readonly logger?: Logger | undefined },
): ConfigWatcher {
  return watchConfigFile(file, {
    initialDigest: opts.digest,
    onResult: opts.reload,
    onError: (err) => opts.logger?.error({ err }, 'configuration watch failed'),
  });
}
