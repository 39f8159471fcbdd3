import { Pool } from 'undici';
import { initializeBody, messageOf } from './harness.ts';

// A lean MCP client for audit load: raw JSON-RPC over keep-alive connections (undici), so the test
// process spends little CPU per call and the sidecar is what gets measured. Counts every HTTP message
// it sends: each one is an MCP message the sidecar must account for with exactly one audit event.

const HEADERS = { 'content-type': 'application/json', accept: 'application/json, text/event-stream' };
const PROTOCOL = '2025-06-18';

export interface CallReply {
  readonly status: number;
  /** 'result' for a tool result, else the JSON-RPC error code. */
  readonly outcome: 'result' | number;
  readonly id: unknown;
}

export interface LoadClient {
  /** MCP messages sent (initialize, notifications, calls), whatever the answer. */
  readonly sent: number;
  /** Opens a session as the API key's principal; returns the headers of that session. */
  openSession(apiKey: string): Promise<Record<string, string>>;
  call(session: Record<string, string>, id: number, tool: string, n: number): Promise<CallReply>;
  close(): Promise<void>;
}

export function createLoadClient(url: string, connections: number): LoadClient {
  const u = new URL(url);
  const pool = new Pool(u.origin, { connections, pipelining: 1 });
  let sent = 0;
  const post = async (headers: Record<string, string>, body: string) => {
    sent += 1;
    const res = await pool.request({ method: 'POST', path: u.pathname, headers, body });
    return { status: res.statusCode, headers: res.headers, text: await res.body.text() };
  };
  return {
    get sent() {
      return sent;
    },
    async openSession(apiKey) {
      const init = await post({ ...HEADERS, 'x-api-key': apiKey }, initializeBody(1, PROTOCOL));
      const sid = init.headers['mcp-session-id'];
      if (typeof sid !== 'string') throw new Error(`no session: HTTP ${init.status} ${init.text}`);
      const session = {
        ...HEADERS,
        'x-api-key': apiKey,
        'mcp-session-id': sid,
        'mcp-protocol-version': PROTOCOL,
      };
      const note = await post(session, '{"jsonrpc":"2.0","method":"notifications/initialized"}');
      if (note.status !== 202) throw new Error(`notifications/initialized: HTTP ${note.status} ${note.text}`);
      return session;
    },
    async call(session, id, tool, n) {
      const body = JSON.stringify({
        jsonrpc: '2.0',
        id,
        method: 'tools/call',
        params: { name: tool, arguments: { n } },
      });
      const res = await post(session, body);
      const msg = messageOf(res.text) as { id?: unknown; result?: unknown; error?: { code: number } };
      return { status: res.status, outcome: msg.error ? msg.error.code : 'result', id: msg.id };
    },
    close: () => pool.close(),
  };
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Polls `cond` every `everyMs` until it holds; throws naming `what` (and the last detail) after `ms`. */
export async function until(
  cond: () => boolean | Promise<boolean>,
  what: string,
  ms = 30_000,
  everyMs = 50,
): Promise<void> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    if (await cond()) return;
    await sleep(everyMs);
  }
  throw new Error(`timed out after ${ms} ms waiting for ${what}`);
}
