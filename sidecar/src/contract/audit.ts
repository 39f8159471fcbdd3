import Type from 'typebox';

// The audit section of the sidecar configuration. Cluster-owned: the operator renders it from Helm
// values / operator flags, and an McpServer may only raise `payloads.capture`, never remove sinks.

const ms = (description: string, defaultMs: number, max = 3_600_000) =>
  Type.Integer({ minimum: 1, maximum: max, description: `${description} (ms, default ${defaultMs})` });

/** A secret read at load time: from an environment variable or a file (a mounted Secret). */
export const SecretRef = Type.Object(
  {
    env: Type.Optional(Type.String({ minLength: 1 })),
    file: Type.Optional(Type.String({ minLength: 1 })),
  },
  { additionalProperties: false, minProperties: 1, maxProperties: 1 },
);
export type SecretRef = Type.Static<typeof SecretRef>;

export const CaptureLevel = Type.Union(
  [Type.Literal('none'), Type.Literal('metadata'), Type.Literal('redacted'), Type.Literal('full')],
  {
    description:
      'none: no payload; metadata: argument names and size; redacted: values with configured paths and ' +
      'detected secrets replaced; full: values as sent (configured paths still redacted).',
  },
);
export type CaptureLevel = Type.Static<typeof CaptureLevel>;

export const Payloads = Type.Object(
  {
    capture: Type.Optional(CaptureLevel),
    maxBytes: Type.Optional(
      Type.Integer({
        minimum: 64,
        maximum: 1_048_576,
        description: 'Cap on captured arguments (default 4096).',
      }),
    ),
    redactPaths: Type.Optional(
      Type.Array(Type.String({ minLength: 1, pattern: '^[^.]+(\\.[^.]+)*$' }), {
        description: "Dotted paths inside the arguments, '*' matches any key or index, e.g. 'auth.*.token'.",
      }),
    ),
    detectors: Type.Optional(
      Type.Boolean({ description: 'Built-in detectors: bearer tokens, API keys, private keys, passwords.' }),
    ),
  },
  { additionalProperties: false },
);
export type Payloads = Type.Static<typeof Payloads>;

const Format = Type.Optional(
  Type.Union([Type.Literal('portcullis'), Type.Literal('ocsf')], {
    description: "Event shape: Portcullis' own (default, verifiable) or OCSF API Activity (class 6003).",
  }),
);

const common = {
  name: Type.Optional(
    Type.String({ minLength: 1, maxLength: 64, description: 'Metric label; default: type.' }),
  ),
  format: Format,
};

export const StdoutSink = Type.Object(
  { type: Type.Literal('stdout'), ...common },
  { additionalProperties: false },
);

export const FileSink = Type.Object(
  {
    type: Type.Literal('file'),
    ...common,
    path: Type.String({ minLength: 1 }),
    maxBytes: Type.Optional(
      Type.Integer({ minimum: 1024, description: 'Rotate above this size (default 100 MiB).' }),
    ),
    maxFiles: Type.Optional(
      Type.Integer({ minimum: 1, maximum: 1000, description: 'Rotated files kept (default 5).' }),
    ),
    fsync: Type.Optional(Type.Boolean({ description: 'fsync after each batch (default false).' })),
  },
  { additionalProperties: false },
);

export const OtlpSink = Type.Object(
  {
    type: Type.Literal('otlp'),
    ...common,
    endpoint: Type.Optional(
      Type.String({
        pattern: '^https?://',
        description:
          'Logs endpoint, e.g. http://collector:4318/v1/logs; default from OTEL_EXPORTER_OTLP_* env.',
      }),
    ),
    headers: Type.Optional(Type.Record(Type.String(), SecretRef)),
    timeoutMs: Type.Optional(ms('Export timeout', 10_000, 120_000)),
  },
  { additionalProperties: false },
);

export const SyslogSink = Type.Object(
  {
    type: Type.Literal('syslog'),
    ...common,
    host: Type.String({ minLength: 1 }),
    port: Type.Integer({ minimum: 1, maximum: 65535 }),
    transport: Type.Optional(
      Type.Union([Type.Literal('tcp'), Type.Literal('tls')], { description: 'Default tls.' }),
    ),
    caFile: Type.Optional(
      Type.String({ description: 'CA bundle that signs the receiver certificate (tls).' }),
    ),
    certFile: Type.Optional(Type.String({ description: 'Client certificate for mutual TLS.' })),
    keyFile: Type.Optional(Type.String()),
    serverName: Type.Optional(Type.String({ description: 'TLS server name; default: host.' })),
    facility: Type.Optional(
      Type.Integer({ minimum: 0, maximum: 23, description: 'Default 13 (log audit).' }),
    ),
    appName: Type.Optional(Type.String({ minLength: 1, maxLength: 48, pattern: '^[!-~]+$' })),
    connectTimeoutMs: Type.Optional(ms('Connect timeout', 5_000, 120_000)),
  },
  { additionalProperties: false },
);

export const HttpSink = Type.Object(
  {
    type: Type.Literal('http'),
    ...common,
    url: Type.String({
      pattern: '^https?://',
      description: 'e.g. https://splunk:8088/services/collector/event',
    }),
    token: Type.Optional(SecretRef),
    authScheme: Type.Optional(
      Type.String({ description: "Authorization scheme for the token (default 'Splunk')." }),
    ),
    sourcetype: Type.Optional(Type.String()),
    index: Type.Optional(Type.String()),
    timeoutMs: Type.Optional(ms('Request timeout', 10_000, 120_000)),
  },
  { additionalProperties: false },
);

export const AuditSinkConfig = Type.Union([StdoutSink, FileSink, OtlpSink, SyslogSink, HttpSink]);
export type AuditSinkConfig = Type.Static<typeof AuditSinkConfig>;

export const AuditQueue = Type.Object(
  {
    maxEvents: Type.Optional(
      Type.Integer({ minimum: 1, description: 'Events held per sink (default 10000).' }),
    ),
    maxBytes: Type.Optional(
      Type.Integer({
        minimum: 65_536,
        description:
          'Serialised events held per sink, in bytes (default 33554432, 32 MiB); the queue takes an event ' +
          'while below it, so it holds at most this plus one event.',
      }),
    ),
    maxBatch: Type.Optional(Type.Integer({ minimum: 1, maximum: 10_000, description: 'Default 500.' })),
    retryInitialMs: Type.Optional(Type.Integer({ minimum: 1, description: 'First backoff (default 100).' })),
    retryMaxMs: Type.Optional(Type.Integer({ minimum: 1, description: 'Backoff ceiling (default 5000).' })),
    ackTimeoutMs: Type.Optional(
      Type.Integer({ minimum: 1, description: 'closed mode: longest wait for delivery (default 5000).' }),
    ),
    closeTimeoutMs: Type.Optional(
      Type.Integer({ minimum: 1, description: 'Flush time on shutdown (default 10000).' }),
    ),
  },
  { additionalProperties: false },
);
export type AuditQueue = Type.Static<typeof AuditQueue>;

export const AuditLimits = Type.Object(
  {
    maxFieldBytes: Type.Optional(
      Type.Integer({
        minimum: 64,
        maximum: 65_536,
        description:
          'Cap on each string (UTF-8 bytes) and list (JSON bytes) of an event other than the captured ' +
          'arguments (default 1024); a cut value is listed in truncatedFields with its length and SHA-256.',
      }),
    ),
  },
  { additionalProperties: false },
);
export type AuditLimits = Type.Static<typeof AuditLimits>;

export const AuditConfig = Type.Object(
  {
    failureMode: Type.Optional(
      Type.Union([Type.Literal('open'), Type.Literal('closed')], {
        description: 'open (default): calls proceed, undeliverable events are counted; closed: refused.',
      }),
    ),
    payloads: Type.Optional(Payloads),
    limits: Type.Optional(AuditLimits),
    queue: Type.Optional(AuditQueue),
    sinks: Type.Optional(Type.Array(AuditSinkConfig, { description: 'Default: one stdout sink.' })),
  },
  { additionalProperties: false },
);
export type AuditConfig = Type.Static<typeof AuditConfig>;
