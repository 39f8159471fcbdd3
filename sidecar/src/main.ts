import type { Logger } from 'pino';
import { parseCli, SIDECAR_COMMAND } from './cli.ts';
import { formatIssues, loadConfigFile } from './config/load.ts';
import { commandLineOrExit, runProcess, type Stop } from './run-process.ts';
import { startSidecar } from './server/sidecar.ts';
import { startTelemetrySdk } from './telemetry/sdk.ts';

// Entry point of the sidecar as the operator deploys it: --config FILE (watched and reloaded). The
// quick start (`npm start`) is an entry point of its own, quickstart/main.ts, so this one never
// starts or loads a development-only MCP server.

async function fromConfigFile(file: string, logger: Logger): Promise<Stop> {
  const result = await loadConfigFile(file);
  if (!result.ok) {
    logger.fatal({ issues: result.issues }, `invalid configuration ${file}: ${formatIssues(result.issues)}`);
    process.exit(2);
  }
  for (const w of result.warnings) logger.warn({ path: w.path }, `configuration: ${w.path}: ${w.message}`);
  // The OpenTelemetry SDK first, so the first request's spans are exported (OTEL_* env configures it).
  const sdk = await startTelemetrySdk(result.config.telemetry, {
    instanceId: process.env.POD_NAME ?? `sidecar-${process.pid}`,
  });
  const sidecar = await startSidecar({
    config: result.config,
    digest: result.digest,
    configFile: file,
    logger,
  });
  logger.info({ url: sidecar.url, admin: sidecar.adminUrl }, 'sidecar listening');
  return async () => {
    await sidecar.close();
    // Flushing spans must not hold the pod in Terminating: bounded, and a failure is only a warning.
    const timeout = new Promise<void>((resolve) => setTimeout(resolve, 3000).unref());
    await Promise.race([sdk.shutdown(), timeout]).catch((err: unknown) =>
      logger.warn({ err }, 'telemetry shutdown failed'),
    );
  };
}

const { config } = commandLineOrExit(parseCli(process.argv.slice(2)), SIDECAR_COMMAND.name);
await runProcess((logger) => fromConfigFile(config, logger));
