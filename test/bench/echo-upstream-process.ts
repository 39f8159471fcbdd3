import { startEchoUpstream } from '../support/echo-upstream.ts';

// The benchmark's upstream in its own process, so it does not share an event loop with the
// sidecar or the load generator. Prints its URL on the first line of stdout.

const upstream = await startEchoUpstream({ record: false });
process.stdout.write(`URL ${upstream.url}\n`);
process.on('SIGTERM', () => {
  void upstream.close().then(() => process.exit(0));
});
