import { readFileSync } from 'node:fs';
import { isIP, connect as netConnect, type Socket } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import type { AuditSink, SinkFormat, SinkRecord } from '../sink.ts';
import { formatRfc5424, frameOctetCounting, headerField } from './syslog-format.ts';

// Syslog over TCP or TLS (RFC 5425) to a collector such as rsyslog. One long-lived connection,
// reopened on the next batch after any error or close. TLS verifies the receiver against caFile (or
// the system roots) and may present a client certificate. Plain TCP has no acknowledgements: a batch
// written just before the peer dies can be lost in the kernel buffer (RFC 6587's known limit); use the
// HTTP or OTLP sinks where every batch must be confirmed.

export interface SyslogSinkOptions {
  name: string;
  format: SinkFormat;
  host: string;
  port: number;
  transport: 'tcp' | 'tls';
  caFile?: string | undefined;
  certFile?: string | undefined;
  keyFile?: string | undefined;
  serverName?: string | undefined;
  facility: number;
  appName: string;
  hostname: string;
  connectTimeoutMs: number;
}

export function createSyslogSink(opts: SyslogSinkOptions): AuditSink {
  // Certificates are read once, at load: a missing file is a configuration error, not a retry.
  const tlsFiles = {
    ca: opts.caFile ? readFileSync(opts.caFile) : undefined,
    cert: opts.certFile ? readFileSync(opts.certFile) : undefined,
    key: opts.keyFile ? readFileSync(opts.keyFile) : undefined,
  };
  const header = {
    facility: opts.facility,
    hostname: headerField(opts.hostname, 255),
    appName: headerField(opts.appName, 48),
    procId: String(process.pid),
  };
  const servername = opts.serverName ?? (isIP(opts.host) === 0 ? opts.host : undefined);
  let socket: Socket | undefined;

  function connect(): Promise<Socket> {
    return new Promise((resolve, reject) => {
      const s =
        opts.transport === 'tls'
          ? tlsConnect({
              host: opts.host,
              port: opts.port,
              // SNI carries names only (RFC 6066); an IP host is still checked against the IP SANs.
              ...(servername !== undefined ? { servername } : {}),
              ...tlsFiles,
              rejectUnauthorized: true,
            })
          : netConnect({ host: opts.host, port: opts.port });
      const timer = setTimeout(() => s.destroy(new Error('syslog connect timeout')), opts.connectTimeoutMs);
      const onError = (err: Error) => {
        clearTimeout(timer);
        reject(err);
      };
      s.once('error', onError);
      s.once(opts.transport === 'tls' ? 'secureConnect' : 'connect', () => {
        clearTimeout(timer);
        s.off('error', onError);
        s.setKeepAlive(true, 30_000);
        s.setNoDelay(true);
        // The receiver never talks back: any data, end or error means the connection is done.
        const drop = () => {
          if (socket === s) socket = undefined;
          s.destroy();
        };
        s.on('error', drop);
        s.on('end', drop);
        s.on('close', drop);
        s.on('data', () => {});
        resolve(s);
      });
    });
  }

  return {
    name: opts.name,
    type: 'syslog',
    format: opts.format,
    async write(batch: readonly SinkRecord[]) {
      let text = '';
      for (const r of batch) text += frameOctetCounting(formatRfc5424(r.event, r.json, header));
      socket ??= await connect();
      const s = socket;
      await new Promise<void>((resolve, reject) => {
        s.write(text, (err) => (err ? reject(err) : resolve()));
      }).catch((err: unknown) => {
        if (socket === s) socket = undefined;
        s.destroy();
        throw err;
      });
    },
    async close() {
      const s = socket;
      socket = undefined;
      if (!s) return;
      await new Promise<void>((resolve) => {
        s.end(() => resolve());
        setTimeout(resolve, 1000).unref();
      });
      s.destroy();
    },
  };
}
