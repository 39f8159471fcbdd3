import Type from 'typebox';
import { CaptureLevel } from '../contract/audit.ts';

// The audit event, version 1: the published contract with SIEMs. The JSON Schema file
// sidecar/audit-event.v1.schema.json is generated from this definition (npm run audit:schema) and a
// unit test fails when it is stale. Add fields only as optional; anything else is a v2.

export const AUDIT_SCHEMA_ID = 'portcullis.dev/audit/v1';
export const GENESIS_HASH = '0'.repeat(64);

const hex64 = (description: string) => Type.String({ pattern: '^[0-9a-f]{64}$', description });
const JsonRpcId = Type.Union([Type.String(), Type.Number(), Type.Null()]);

export const AuditPrincipal = Type.Object(
  {
    subject: Type.String(),
    name: Type.Optional(Type.String()),
    groups: Type.Array(Type.String()),
    method: Type.Union([
      Type.Literal('oidc'),
      Type.Literal('service-account'),
      Type.Literal('api-key'),
      Type.Literal('anonymous'),
    ]),
    issuer: Type.Optional(Type.String()),
    serviceAccount: Type.Optional(Type.String()),
    apiKeyId: Type.Optional(Type.String()),
    clientId: Type.Optional(Type.String({ description: 'OAuth client (azp / client_id claim).' })),
  },
  { additionalProperties: false },
);
export type AuditPrincipal = Type.Static<typeof AuditPrincipal>;

export const AuditOutcome = Type.Union(
  [Type.Literal('allowed'), Type.Literal('denied'), Type.Literal('failed'), Type.Literal('unauthenticated')],
  {
    description:
      'allowed: forwarded and answered; denied: refused by policy; failed: refused or failed for another ' +
      'reason (upstream error, audit unavailable, bad input); unauthenticated: authentication failed.',
  },
);
export type AuditOutcome = Type.Static<typeof AuditOutcome>;

/** A tool.drift event's detail: a pinned definition changed, is unapproved, or hides text. */
export const DefinitionDrift = Type.Object(
  {
    kind: Type.Union([
      Type.Literal('tool'),
      Type.Literal('prompt'),
      Type.Literal('resourceTemplate'),
      Type.Literal('instructions'),
    ]),
    name: Type.String({ description: "Tool or prompt name, template URI; '' for instructions." }),
    effect: Type.Union([Type.Literal('held'), Type.Literal('observed')], {
      description: "'held': hidden from lists and its calls refused; 'observed': Observe mode, passed.",
    }),
    reason: Type.Union([Type.Literal('changed'), Type.Literal('unapproved'), Type.Literal('suspicious')]),
    pinned: Type.Optional(
      Type.String({ description: 'Digest it was approved or trusted at (sha256:<hex>).' }),
    ),
    observed: Type.String({ description: 'Digest the server shows now (sha256:<hex>).' }),
    changes: Type.Array(
      Type.Object(
        {
          path: Type.String({ description: 'JSON Pointer inside the definition.' }),
          change: Type.Union([Type.Literal('added'), Type.Literal('removed'), Type.Literal('changed')]),
          before: Type.Optional(Type.Unknown()),
          after: Type.Optional(Type.Unknown()),
        },
        { additionalProperties: false },
      ),
    ),
    suspicious: Type.Optional(
      Type.Array(
        Type.Object(
          {
            path: Type.String(),
            class: Type.Union([Type.Literal('tag'), Type.Literal('zero-width'), Type.Literal('bidi')]),
            codePoint: Type.String({ description: 'The first such character, U+XXXX.' }),
            count: Type.Integer({ minimum: 1 }),
          },
          { additionalProperties: false },
        ),
        { description: 'Invisible or bidirectional characters found in the definition.' },
      ),
    ),
  },
  { additionalProperties: false },
);

export const AuditEvent = Type.Object(
  {
    schema: Type.Literal(AUDIT_SCHEMA_ID),
    id: Type.String({ description: 'Unique event id (UUID).' }),
    time: Type.String({ format: 'date-time', description: 'When the message arrived (RFC 3339, UTC).' }),
    instance: Type.String({
      minLength: 1,
      description: 'Sidecar instance (pod name + start); scope of seq.',
    }),
    seq: Type.Integer({ minimum: 1, description: 'Per-instance sequence number, contiguous from 1.' }),
    prevHash: hex64('hash of the previous event of this instance; 64 zeros for seq 1.'),
    hash: hex64('SHA-256 (hex) of the RFC 8785 canonical JSON of this event without its hash field.'),
    type: Type.Union([
      Type.Literal('mcp.message'),
      Type.Literal('authn.failure'),
      Type.Literal('tool.drift'),
    ]),
    outcome: AuditOutcome,
    server: Type.Object(
      { name: Type.String(), namespace: Type.Optional(Type.String()) },
      { additionalProperties: false },
    ),
    principal: Type.Optional(AuditPrincipal),
    client: Type.Optional(
      Type.Object(
        { name: Type.Optional(Type.String()), version: Type.Optional(Type.String()) },
        { additionalProperties: false, description: 'MCP clientInfo from initialize.' },
      ),
    ),
    source: Type.Object(
      {
        address: Type.String(),
        port: Type.Optional(Type.Integer()),
        userAgent: Type.Optional(Type.String()),
      },
      { additionalProperties: false },
    ),
    session: Type.Optional(Type.String({ description: 'Mcp-Session-Id.' })),
    protocolVersion: Type.Optional(Type.String()),
    method: Type.String({
      description:
        "JSON-RPC method, e.g. 'tools/call'; 'http' when no message was read (authn failures, GET, DELETE, " +
        "parser refusals); 'response' for the server's answer outside its request's exchange.",
    }),
    jsonrpcId: Type.Optional(JsonRpcId),
    direction: Type.Optional(
      Type.Literal('server-to-client', {
        description:
          'Set on what the server sent: notifications, its own requests, answers outside their exchange. ' +
          'Absent on what the caller sent.',
      }),
    ),
    httpMethod: Type.Optional(
      Type.String({
        description:
          'The HTTP method when not POST: GET (a stream, recorded when it ends, and the server messages ' +
          'on it), DELETE, unknown (refused by the HTTP parser).',
      }),
    ),
    target: Type.Optional(
      Type.Object(
        {
          tool: Type.Optional(Type.String()),
          resource: Type.Optional(Type.String()),
          prompt: Type.Optional(Type.String()),
        },
        { additionalProperties: false },
      ),
    ),
    toolDigest: Type.Optional(Type.String({ description: 'Digest of the tool definition, where known.' })),
    drift: Type.Optional(DefinitionDrift),
    decision: Type.Optional(
      Type.Object(
        {
          effect: Type.Union([Type.Literal('allow'), Type.Literal('deny')]),
          rule: Type.Optional(Type.String()),
          policy: Type.Optional(Type.String()),
          reason: Type.Optional(Type.String()),
        },
        { additionalProperties: false },
      ),
    ),
    payload: Type.Optional(
      Type.Object(
        {
          capture: CaptureLevel,
          bytes: Type.Integer({ minimum: 0, description: 'Size of the arguments as received (JSON bytes).' }),
          keys: Type.Optional(Type.Array(Type.String(), { description: 'Top-level argument names.' })),
          arguments: Type.Optional(Type.Unknown()),
          preview: Type.Optional(
            Type.String({ description: 'Start of the arguments JSON when over the cap.' }),
          ),
          truncated: Type.Optional(Type.Boolean()),
          redacted: Type.Optional(
            Type.Array(Type.String(), { description: 'Paths whose values were replaced.' }),
          ),
        },
        { additionalProperties: false },
      ),
    ),
    result: Type.Optional(
      Type.Object(
        {
          isError: Type.Boolean(),
          bytes: Type.Optional(Type.Integer({ minimum: 0 })),
          errorCode: Type.Optional(Type.Integer()),
          errorMessage: Type.Optional(Type.String()),
        },
        { additionalProperties: false },
      ),
    ),
    httpStatus: Type.Optional(Type.Integer()),
    reason: Type.Optional(Type.String({ description: 'Why a message failed or was refused (detail).' })),
    latencyMs: Type.Number({ minimum: 0 }),
    upstreamLatencyMs: Type.Optional(Type.Number({ minimum: 0 })),
    upstreamCredential: Type.Optional(
      Type.Object(
        {
          mode: Type.Union(
            [
              Type.Literal('headers'),
              Type.Literal('perPrincipal'),
              Type.Literal('tokenExchange'),
              Type.Literal('clientCredentials'),
            ],
            { description: 'How the credential was obtained (upstream.auth.mode).' },
          ),
          id: Type.String({ description: 'Which credential was sent upstream; never its value.' }),
        },
        { additionalProperties: false },
      ),
    ),
    truncatedFields: Type.Optional(
      Type.Array(
        Type.Object(
          {
            field: Type.String({
              description:
                "JSON Pointer (RFC 6901) of the cut value, e.g. '/target/tool' or '/payload/keys'.",
            }),
            bytes: Type.Integer({
              minimum: 0,
              description: 'Length of the original: UTF-8 bytes of a string, of the JSON of a list.',
            }),
            sha256: hex64('SHA-256 (hex) of those original bytes.'),
          },
          { additionalProperties: false },
        ),
        {
          description:
            'Values cut to audit.limits.maxFieldBytes: a string keeps its first bytes (whole characters), ' +
            'a list its first elements. Absent when nothing was cut.',
        },
      ),
    ),
    trace: Type.Optional(
      Type.Object(
        {
          traceId: Type.String({ pattern: '^[0-9a-f]{32}$' }),
          spanId: Type.String({ pattern: '^[0-9a-f]{16}$' }),
        },
        { additionalProperties: false },
      ),
    ),
  },
  {
    additionalProperties: false,
    $id: 'https://portcullis.dev/schemas/audit-event.v1.json',
    title: 'Portcullis audit event v1',
  },
);
export type AuditEvent = Type.Static<typeof AuditEvent>;

/** What the proxy hands the auditor for one MCP message; the auditor adds id, seq and hashes. */
export interface AuditInput {
  type?: AuditEvent['type'];
  outcome: AuditOutcome;
  /** When the message arrived; default: now. */
  time?: Date;
  server: AuditEvent['server'];
  principal?: AuditPrincipal | undefined;
  client?: AuditEvent['client'];
  source: AuditEvent['source'];
  session?: string | undefined;
  protocolVersion?: string | undefined;
  method: string;
  jsonrpcId?: string | number | null;
  direction?: AuditEvent['direction'];
  httpMethod?: string | undefined;
  target?: AuditEvent['target'];
  toolDigest?: string | undefined;
  drift?: AuditEvent['drift'];
  decision?: AuditEvent['decision'];
  /** The raw params.arguments (tools/call, prompts/get); captured per the configured level. */
  arguments?: unknown;
  result?: AuditEvent['result'];
  httpStatus?: number;
  reason?: string;
  latencyMs: number;
  upstreamLatencyMs?: number;
  upstreamCredential?: AuditEvent['upstreamCredential'];
  trace?: AuditEvent['trace'];
}
