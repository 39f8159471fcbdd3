import { createServer, type IncomingMessage, type Server } from 'node:http';

// Real peers for the HTTP-based sinks, written with node:http: servers that parse what arrives the way
// a Splunk HTTP Event Collector and an OTLP/HTTP (JSON) logs receiver do, and can be taken down and
// brought back on the same port.

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
