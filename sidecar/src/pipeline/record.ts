import type { Principal } from '../contract/principal.ts';
import type { JsonRpcId, ProxyErrorCode } from '../errors.ts';

// One record per MCP message (or per refused HTTP request when no message could be read): the single
// request context that audit, metrics and traces read. Shaped after the audit event's input so
// the auditor maps it field by field.

export type RecordOutcome = 'allowed' | 'denied' | 'failed' | 'unauthenticated';

export interface McpTarget {
  tool?: string;
  resource?: string;
  prompt?: string;
  subscriptions?: readonly string[];
}

export interface McpRecord {
  /** When the HTTP request arrived (epoch ms). */
  readonly startedAt: number;
  outcome: RecordOutcome;
  transport: 'streamable-http' | 'sse';
  httpMethod: string;
  source: { address: string; port?: number; userAgent?: string };
  principal?: Principal;
  session?: string;
  protocolVersion?: string;
  /** JSON-RPC method; 'http' when no message could be read (authn failure, bad body). */
  method: string;
  jsonrpcId?: JsonRpcId;
  kind?: 'request' | 'notification' | 'response';
  /** Set on what the server sent (notifications, its requests, answers outside their exchange). */
  direction?: 'server-to-client';
  target?: McpTarget;
  arguments?: unknown;
  client?: { name?: string; version?: string };
  decision?: { effect: 'allow' | 'deny'; rule?: string; policy?: string; reason?: string };
  result?: { isError: boolean; errorCode?: number; errorMessage?: string };
  httpStatus?: number;
  /** Proxy or authentication error code, when the message was refused or failed. */
  errorCode?: ProxyErrorCode | string;
  /** Detail for operators; never shown to the client. */
  reason?: string;
  /** Arrival to the end of the answer (the whole reply, streamed). */
  latencyMs: number;
  /** latencyMs less the wait for the upstream (see upstream-wait.ts): the time the sidecar added. */
  ownLatencyMs: number;
  /** Request sent to the upstream's reply headers. */
  upstreamLatencyMs?: number;
  /** The credential sent upstream for this message (its id, never its value). */
  upstreamCredential?: {
    mode: 'headers' | 'perPrincipal' | 'tokenExchange' | 'clientCredentials';
    id: string;
  };
  traceparent?: string;
}

/**
 * Receives every record exactly once. `admit` lets a fail-closed auditor refuse a call before it is
 * forwarded (its buffer is full, its sink is down); `record` must not throw.
 */
export interface Recorder {
  admit?(): boolean;
  record(record: McpRecord): void;
}

export function fanOut(recorders: readonly Recorder[]): Recorder {
  return {
    admit: () => recorders.every((r) => r.admit?.() ?? true),
    record(record) {
      for (const r of recorders) {
        try {
          r.record(record);
        } catch {
          // a failing observer must not break the call or the other observers
        }
      }
    },
  };
}
