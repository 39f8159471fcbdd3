import { type Logger, pino } from 'pino';
import { parseCli } from './cli.ts';
import { formatIssues, loadConfigFile } from './config/load.ts';
import { startSidecar } from './server/sidecar.ts';
import { startTelemetrySdk } from './telemetry/sdk.ts';

// Entry point. With --config FILE: the sidecar as the operator deploys it (the file is watched and
// reloaded). Without: the quick start (the everything server behind the sidecar, a local API key;
// --stdio runs that server as a stdio child instead).

type Stop = () => Promise<void>;

async function fromConfigFile(file: string, logger: Logger): Promise<Stop> {
  const result = await loadConfigFile(file);
  if (!result.ok) {
    logger.fatal({ issues: result.issues }, `invalid configuration ${file}: ${formatIssues(result.issues)}`);
    process.exit(2);
  }
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

async function quickstart(stdio: boolean, logger: Logger): Promise<Stop> {
  // Loaded only here: the quick start brings the MCP SDK, which a configured sidecar never needs.
  const { runQuickstart } = await import('./quickstart/run.ts');
  const qs = await runQuickstart({
    port: Number(process.env.PORT ?? 8080),
    adminPort: Number(process.env.ADMIN_PORT ?? 9090),
    stdio,
    apiKey: process.env.PORTCULLIS_API_KEY,
    logger,
  });
  return () => qs.close();
}

const cli = parseCli(process.argv.slice(2));
if (cli.kind === 'help') {
  process.stdout.write(cli.text);
  process.exit(0);
}
if (cli.kind === 'error') {
  process.stderr.write(`portcullis-sidecar: ${cli.message}\n`);
  process.exit(2);
}
const logger = pino({ level: process.env.LOG_LEVEL ?? 'info' });

let stop: Stop;
try {
  stop =
    cli.config !== undefined ? await fromConfigFile(cli.config, logger) : await quickstart(cli.stdio, logger);
} catch (err) {
  logger.fatal({ err }, `cannot start: ${(err as Error).message}`);
  process.exit(1);
}

let stopping = false;
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'shutting down');
    stop().then(
      () => process.exit(0),
      (err: unknown) => {
        logger.error({ err }, 'shutdown failed');
        process.exit(1);
      },
    );
  });
}
