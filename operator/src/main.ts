import pino from 'pino';
import { OptionsError, parseOptions } from './manager/options.ts';
import { runOperator } from './manager/run.ts';
import { operatorUsage, wantsHelp } from './usage.ts';

// Entry point: `node operator/src/main.ts [flags]` (npm run start:operator). SIGTERM/SIGINT stop
// taking work, finish what is in flight, release the leader lease and exit 0. SIGHUP queues every
// object again (a resync), e.g. to check that an unchanged cluster makes no writes.

const argv = process.argv.slice(2);
if (wantsHelp(argv)) {
  process.stdout.write(operatorUsage());
  process.exit(0);
}

let options: ReturnType<typeof parseOptions>;
try {
  options = parseOptions(argv, process.env);
} catch (err) {
  if (
    !(err instanceof OptionsError) &&
    (err as { code?: string }).code?.startsWith('ERR_PARSE_ARGS') !== true
  )
    throw err;
  process.stderr.write(`portcullis-operator: ${(err as Error).message}\nRun with --help for the flags.\n`);
  process.exit(2);
}

const log = pino({ level: options.logLevel, name: 'portcullis-operator' });
// A start that cannot succeed (no cluster to reach, credentials refused) is one fatal line and a
// non-zero exit, not a stack trace: the pod's log says why it restarts.
const running = await runOperator(options, {
  log,
  onLostLeadership: () => {
    log.error('lost the leader lease; exiting so the pod restarts as a candidate');
    process.exit(1);
  },
  onFatal: () => process.exit(1),
}).catch((err: unknown) => {
  log.fatal({ err }, 'cannot start');
  process.exit(1);
});

process.on('SIGHUP', () => {
  log.info('SIGHUP: resync');
  running.operator.resync();
});

let signalled = false;
for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  process.on(signal, () => {
    if (signalled) return;
    signalled = true;
    log.info({ signal }, 'shutting down');
    running.stop().then(
      () => process.exit(0),
      (err: unknown) => {
        log.error({ err }, 'unclean shutdown');
        process.exit(1);
      },
    );
  });
}
