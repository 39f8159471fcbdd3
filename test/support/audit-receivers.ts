import { createServer, type IncomingMessage, type Server } from 'node:http';
import { type AddressInfo, createServer as createNetServer, type Socket } from 'node:net';

// Real peers for the network audit sinks, shared by the audit tests and the benchmarks: servers that
// parse what arrives the way a Splunk HTTP Event Collector and an OTLP/HTTP (JSON) logs receiver do
// (and can be taken down and brought back on the same port), and a counting syslog TCP receiver.

export interface Receiver {
  url: string;
  port: number;
  /** Events (the sidecar's JSON, re-serialised) in arrival order. */
  readonly events: string[];
  requests: number;
  /** While set, answer every request with this status instead of accepting it. */
  failWith: number | undefined;
  stop(): Promise<void>;
  start(): Promise<void>;
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

function receiver(
  path: string,
  parse: (body: string, req: IncomingMessage) => string[],
  port = 0,
): Promise<Receiver> {
  let server: Server | undefined;
  const r: Receiver = {
    url: '',
    port,
    events: [],
    requests: 0,
    failWith: undefined,
    async stop() {
      const s = server;
      server = undefined;
      if (!s) return;
      s.closeAllConnections();
      await new Promise<void>((resolve) => s.close(() => resolve()));
    },
    async start() {
      const s = createServer(async (req, res) => {
        r.requests += 1;
        const body = await readBody(req);
        if (r.failWith !== undefined) {
          res.writeHead(r.failWith).end('{"text":"Server is busy","code":9}');
          return;
        }
        if (req.method !== 'POST' || req.url !== path) {
          res.writeHead(404).end();
          return;
        }
        try {
          r.events.push(...parse(body, req));
        } catch (err) {
          res.writeHead(400).end(String(err));
          return;
        }
        res.writeHead(200, { 'content-type': 'application/json' }).end('{"text":"Success","code":0}');
      });
      await new Promise<void>((resolve) => s.listen(r.port, '127.0.0.1', resolve));
      r.port = (s.address() as { port: number }).port;
      r.url = `http://127.0.0.1:${r.port}${path}`;
      server = s;
    },
  };
  return r.start().then(() => r);
}

/** Splunk HEC: concatenated JSON envelopes; the token must match. */
export function startHecReceiver(token: string): Promise<Receiver> {
  return receiver('/services/collector/event', (body, req) => {
    if (req.headers.authorization !== `Splunk ${token}`) throw new Error('bad token');
    return body
      .split('\n')
      .filter((l) => l !== '')
      .map((l) => {
        const envelope = JSON.parse(l) as { time: number; sourcetype: string; event: unknown };
        if (typeof envelope.time !== 'number' || envelope.sourcetype !== 'portcullis:audit')
          throw new Error('bad envelope');
        return JSON.stringify(envelope.event);
      });
  });
}

export interface OtlpLogRecord {
  body?: { stringValue?: string };
  attributes?: Array<{ key: string; value: Record<string, unknown> }>;
  severityText?: string;
  eventName?: string;
  traceId?: string;
}

/** OTLP/HTTP JSON logs: resourceLogs → scopeLogs → logRecords; bodies are the events. */
export function startOtlpLogsReceiver(records: OtlpLogRecord[] = []): Promise<Receiver> {
  return receiver('/v1/logs', (body) => {
    const payload = JSON.parse(body) as {
      resourceLogs: Array<{ scopeLogs: Array<{ logRecords: OtlpLogRecord[] }> }>;
    };
    const out: string[] = [];
    for (const rl of payload.resourceLogs)
      for (const sl of rl.scopeLogs)
        for (const lr of sl.logRecords) {
          records.push(lr);
          out.push(lr.body?.stringValue ?? '');
        }
    return out;
  });
}

export interface SyslogTcpReceiver {
  readonly port: number;
  /** RFC 5424 messages received so far (RFC 6587 octet-counted frames). */
  readonly messages: number;
  stop(): Promise<void>;
}

/**
 * A syslog-over-TCP peer that counts octet-counted frames without keeping them: enough for load
 * (benchmarks); tests that read the messages use Debian's rsyslog (test/support/rsyslog.ts).
 */
export async function startSyslogTcpReceiver(): Promise<SyslogTcpReceiver> {
  let messages = 0;
  const sockets = new Set<Socket>();
  const server = createNetServer((socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
    let pending: Buffer = Buffer.alloc(0);
    socket.on('data', (chunk: Buffer) => {
      pending = pending.length === 0 ? chunk : Buffer.concat([pending, chunk]);
      let at = 0;
      for (;;) {
        const space = pending.indexOf(0x20, at);
        if (space === -1) break;
        const len = Number(pending.toString('latin1', at, space));
        if (!Number.isInteger(len) || len <= 0) {
          socket.destroy(); // not octet counting: a real syslog server would drop the peer too
          return;
        }
        if (pending.length < space + 1 + len) break;
        messages += 1;
        at = space + 1 + len;
      }
      pending = pending.subarray(at);
    });
    socket.on('error', () => {});
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as AddressInfo).port,
    get messages() {
      return messages;
    },
    stop() {
      for (const s of sockets) s.destroy();
      return new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
