import { join } from 'node:path';
import type { AuditConfig } from '../../sidecar/src/contract/audit.ts';
import { type Rule, rawConfig } from './harness.ts';
import { type SidecarProcess, startSidecarProcess } from './sidecar-process.ts';

// The sidecar as it is deployed, for audit tests: a child process (sidecar-process.ts) with the
// audit section under test, its standard output going straight to `sidecar.stdout` in the test's
// folder (the stdout sink's copy of the trail, next to pino's log lines), no spans exported.

export interface AuditedSidecarInput {
  /** A directory the test owns: the config file and the captured stdout go there. */
  readonly dir: string;
  readonly upstreamUrl: string;
  readonly rules: Rule[];
  readonly audit: AuditConfig;
  /** The McpServer's namespace (server.namespace); none by default. */
  readonly namespace?: string;
  /** Extra environment (sink secrets). */
  readonly env?: Record<string, string>;
  /** pino level of the sidecar's own log (default warn). */
  readonly logLevel?: string;
}

export function startAuditedSidecar(input: AuditedSidecarInput): Promise<SidecarProcess> {
  const raw = rawConfig({
    upstream: { transport: 'streamable-http', url: input.upstreamUrl },
    rules: input.rules,
    audit: input.audit,
  });
  const config = {
    ...raw,
    server: input.namespace === undefined ? raw.server : { ...raw.server, namespace: input.namespace },
    // Spans have nowhere to go here; exporting them would only cost CPU the audit sinks need.
    telemetry: { tracing: { enabled: false } },
  };
  return startSidecarProcess(config, {
    dir: input.dir,
    env: input.env,
    logLevel: input.logLevel,
    stdout: { file: join(input.dir, 'sidecar.stdout') },
    graceMs: 15_000,
  });
}
