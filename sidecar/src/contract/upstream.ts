import Type from 'typebox';
import { ms } from './fields.ts';
import { UpstreamAuth } from './upstream-auth.ts';

// The configuration file's `upstream` section: the MCP server the sidecar forwards to (HTTP, or stdio
// processes it or the launcher starts), the credentials, TLS and circuit breaker on the way there.

export const StdioProcesses = Type.Object(
  {
    maxProcesses: Type.Integer({
      minimum: 1,
      maximum: 1024,
      default: 16,
      description:
        'Most stdio server processes alive at once (warm ones included); a new session past it gets HTTP 503 and a JSON-RPC error.',
    }),
    warm: Type.Integer({
      minimum: 0,
      maximum: 1024,
      default: 0,
      description: 'Processes started ahead and handed to new sessions, hiding start-up time (npx, uvx).',
    }),
    idleTimeoutMs: ms(
      "A session's process with no message either way and no request in flight is stopped after",
      600_000,
    ),
    stopGraceMs: ms('Time a stopped process group has between SIGTERM and SIGKILL', 5_000),
  },
  {
    additionalProperties: false,
    description: 'Limits of the stdio transport: one process (group) per MCP session.',
  },
);

export const StdioLauncher = Type.Object(
  {
    socket: Type.String({
      pattern: '^/',
      description: "Unix socket of the Portcullis launcher that starts the server's processes.",
    }),
  },
  {
    additionalProperties: false,
    description:
      "Stdio processes started by the launcher in the MCP server's own container (Kubernetes), not by the sidecar: the command is the launcher's, fixed by the pod spec.",
  },
);

export const UpstreamTls = Type.Object(
  {
    caFile: Type.Optional(
      Type.String({
        minLength: 1,
        description: 'CA bundle the upstream certificate must chain to (PEM).',
      }),
    ),
    serverName: Type.Optional(
      Type.String({
        minLength: 1,
        description: 'Name checked in the certificate (SNI); default the URL host.',
      }),
    ),
  },
  { additionalProperties: false, description: 'TLS to an https upstream (an external server).' },
);

export const CircuitBreaker = Type.Object(
  {
    failures: Type.Integer({
      minimum: 1,
      maximum: 1000,
      default: 5,
      description: 'Connect failures or timeouts in a row that open the circuit (calls then fail at once).',
    }),
    cooldownMs: ms('Time an open circuit waits before one trial call', 5_000),
  },
  { additionalProperties: false },
);

export const Upstream = Type.Object(
  {
    transport: Type.Union([Type.Literal('streamable-http'), Type.Literal('sse'), Type.Literal('stdio')]),
    url: Type.Optional(
      Type.String({ pattern: '^https?://', description: 'Upstream MCP endpoint (streamable-http, sse).' }),
    ),
    command: Type.Optional(
      Type.String({ minLength: 1, description: 'Program to spawn (stdio without a launcher).' }),
    ),
    args: Type.Optional(Type.Array(Type.String())),
    env: Type.Optional(Type.Record(Type.String(), Type.String())),
    processes: Type.Optional(StdioProcesses),
    launcher: Type.Optional(StdioLauncher),
    headers: Type.Optional(
      Type.Array(
        Type.Object(
          {
            name: Type.String({ minLength: 1 }),
            valueFrom: Type.Object(
              {
                env: Type.Optional(Type.String({ minLength: 1 })),
                file: Type.Optional(Type.String({ minLength: 1 })),
              },
              { additionalProperties: false, minProperties: 1, maxProperties: 1 },
            ),
          },
          { additionalProperties: false },
        ),
        {
          description:
            "Credentials the sidecar adds to upstream requests. The caller's token is never forwarded.",
        },
      ),
    ),
    auth: Type.Optional(UpstreamAuth),
    tls: Type.Optional(UpstreamTls),
    circuitBreaker: Type.Optional(CircuitBreaker),
    connectTimeoutMs: ms('Upstream connect timeout', 5_000),
    requestTimeoutMs: ms('Time allowed for an upstream response to start', 60_000),
  },
  { additionalProperties: false },
);
