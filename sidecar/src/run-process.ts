import { type Logger, pino } from 'pino';
import type { CliResult } from './cli.ts';

// What both entry points (main.ts, quickstart/main.ts) do around their own start: --help and
// command-line errors, one logger, and a clean stop on SIGINT or SIGTERM.

export type Stop = () => Promise<void>;

/** The values to run with; prints the help (exit 0) or the error (exit 2) otherwise. */
export function commandLineOrExit<V>(result: CliResult<V>, program: string): V {
  if (result.kind === 'help') {
    process.stdout.write(result.text);
    process.exit(0);
  }
  if (result.kind === 'error') {
    process.stderr.write(`${program}: ${result.message}\n`);
    process.exit(2);
  }
  return result.values;
}

/** Starts, then stops once on the first SIGINT or SIGTERM: exit 0 when stopped, 1 when it failed. */
export async function runProcess(start: (logger: Logger) => Promise<Stop>): Promise<void> {
  const logger = pino({ level: process.env.LOG_LEVEL ?? 'info' });
  let stop: Stop;
  try {
    stop = await start(logger);
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
}
