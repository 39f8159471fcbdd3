import { COMMON_ENV, type Command, HELP_FLAG, parseCommand } from '../cli.ts';
import { commandLineOrExit, runProcess } from '../run-process.ts';
import { runQuickstart } from './run.ts';

// Entry point of the quick start (`npm start`): the reference "everything" MCP server behind the
// sidecar, with a local API key (--stdio runs that server as a stdio child instead). A development
// tool: the sidecar's own entry point (main.ts) neither imports nor starts any of it.

export const QUICKSTART_COMMAND = {
  name: 'portcullis-quickstart',
  synopsis: 'npm start [-- --stdio] [--help]   (node sidecar/src/quickstart/main.ts)',
  about:
    'Portcullis quick start: the reference "everything" MCP server governed by the sidecar, with a local API key.',
  flags: {
    stdio: { type: 'boolean', help: 'Run the everything server as a stdio child instead of over HTTP.' },
    help: HELP_FLAG,
  },
  env: [
    ...COMMON_ENV,
    ['PORT', 'MCP port (default 8080).'],
    ['ADMIN_PORT', 'Admin port for /metrics and health (default 9090).'],
    ['PORTCULLIS_API_KEY', 'The API key to accept (default: a random one, printed).'],
  ],
  footer: 'The sidecar on a configuration file: node sidecar/src/main.ts --config FILE.',
} as const satisfies Command;

const { stdio } = commandLineOrExit(
  parseCommand(QUICKSTART_COMMAND, process.argv.slice(2)),
  QUICKSTART_COMMAND.name,
);
await runProcess(async (logger) => {
  const qs = await runQuickstart({
    port: Number(process.env.PORT ?? 8080),
    adminPort: Number(process.env.ADMIN_PORT ?? 9090),
    stdio: stdio === true,
    apiKey: process.env.PORTCULLIS_API_KEY,
    logger,
  });
  return () => qs.close();
});
