import {
  startHecReceiver,
  startOtlpLogsReceiver,
  startSyslogTcpReceiver,
} from '../support/audit-receivers.ts';

// The audit sinks' peers for `npm run bench:sidecar` in their own process, so parsing what arrives
// does not share an event loop with the load generator. Prints their addresses as JSON on the first
// line of stdout.

const HEC_TOKEN = 'bench-hec-token';

const syslog = await startSyslogTcpReceiver();
const hec = await startHecReceiver(HEC_TOKEN);
const otlp = await startOtlpLogsReceiver();
process.stdout.write(
  `${JSON.stringify({ syslogPort: syslog.port, hecUrl: hec.url, hecToken: HEC_TOKEN, otlpUrl: otlp.url })}\n`,
);
process.on('SIGTERM', () => {
  void Promise.all([syslog.stop(), hec.stop(), otlp.stop()]).then(() => process.exit(0));
});
