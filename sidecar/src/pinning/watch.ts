import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { SSEClientTransport } from '@modelcontextprotocol/sdk/client/sse.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import {
  PromptListChangedNotificationSchema,
  ResourceListChangedNotificationSchema,
  ResultSchema,
  ToolListChangedNotificationSchema,
} from '@modelcontextprotocol/sdk/types.js';
import type { PinBook } from './book.ts';

// The sidecar reads the server's definitions itself, with its own MCP session and its own identity
// (the configured upstream credentials, never a caller's): at start, on notifications/*/list_changed,
// and at an interval, so a change is held before any client lists it. Results are requested with the
// SDK's loose ResultSchema, so the book judges the members exactly as the server sent them, as it
// does on the reply path. It speaks the upstream's transport (Streamable HTTP, which a stdio server
// is bridged to, or legacy HTTP+SSE), and asks for its headers on every request, so a client
// credentials token that expired is replaced without reconnecting.

export interface PinWatcherOptions {
  readonly url: string;
  /** Default streamable-http. */
  readonly transport?: 'streamable-http' | 'sse';
  /** The sidecar's own headers for the upstream, resolved per request. */
  readonly headers: () => Promise<Readonly<Record<string, string>>> | Readonly<Record<string, string>>;
  readonly book: PinBook;
  /** How requests reach the upstream: its TLS settings (upstream/tls-fetch.ts); default the global fetch. */
  readonly fetch?: typeof fetch;
  readonly intervalMs: number;
  /** Most bytes of one response to a request of the watcher's (a list page); default 8 MiB. */
  readonly maxPageBytes?: number;
  /** After each complete read (metrics of what is pinned and held). */
  readonly onRead?: () => void;
  readonly onError: (err: Error) => void;
}

export interface PinWatcher {
  /** Reads every list once now; resolves when done (errors go to onError). */
  refresh(): Promise<void>;
  close(): Promise<void>;
}

const LISTS = ['tools/list', 'prompts/list', 'resources/templates/list'] as const;
const CAPABILITY: Record<(typeof LISTS)[number], 'tools' | 'prompts' | 'resources'> = {
  'tools/list': 'tools',
  'prompts/list': 'prompts',
  'resources/templates/list': 'resources',
};
const MAX_PAGES = 100;
const MAX_PAGE_BYTES = 8 * 1024 * 1024;

/**
 * The response with its body cut off, as an error, past `max` bytes: a server cannot make the
 * sidecar buffer a list page of any size. Only for replies to POSTs: the GET stream lives long.
 */
function bounded(res: Response, max: number): Response {
  if (res.body === null) return res;
  let seen = 0;
  const body = res.body.pipeThrough(
    new TransformStream<Uint8Array, Uint8Array>({
      transform(chunk, controller) {
        seen += chunk.byteLength;
        if (seen > max) controller.error(new Error(`a reply to the pinning session over ${max} bytes`));
        else controller.enqueue(chunk);
      },
    }),
  );
  return new Response(body, { status: res.status, statusText: res.statusText, headers: res.headers });
}

export function startPinWatcher(opts: PinWatcherOptions): PinWatcher {
  let client: Client | undefined;
  let running: Promise<void> | undefined;
  let again = false;
  let closed = false;

  const connect = async (): Promise<Client> => {
    if (client !== undefined) return client;
    const c = new Client({ name: 'portcullis-pinning', version: '1' });
    const withHeaders = async (url: string | URL, init?: RequestInit) => {
      const headers = new Headers(init?.headers);
      for (const [k, v] of Object.entries(await opts.headers())) headers.set(k, v);
      const res = await (opts.fetch ?? fetch)(url, { ...init, headers });
      return init?.method === 'POST' ? bounded(res, opts.maxPageBytes ?? MAX_PAGE_BYTES) : res;
    };
    const url = new URL(opts.url);
    const transport =
      opts.transport === 'sse'
        ? new SSEClientTransport(url, { fetch: withHeaders })
        : new StreamableHTTPClientTransport(url, { fetch: withHeaders });
    for (const schema of [
      ToolListChangedNotificationSchema,
      PromptListChangedNotificationSchema,
      ResourceListChangedNotificationSchema,
    ])
      c.setNotificationHandler(schema, () => void refresh());
    c.onclose = () => {
      if (client === c) client = undefined;
    };
    await c.connect(transport);
    client = c;
    return c;
  };

  const readAll = async (): Promise<void> => {
    const c = await connect();
    const instructions = c.getInstructions();
    opts.book.filterInitialize(instructions === undefined ? {} : { instructions });
    const caps = c.getServerCapabilities() ?? {};
    for (const method of LISTS) {
      if (caps[CAPABILITY[method]] === undefined) continue;
      let cursor: string | undefined;
      for (let page = 0; page < MAX_PAGES; page++) {
        const result = await c.request(
          { method, params: cursor === undefined ? {} : { cursor } },
          ResultSchema,
        );
        opts.book.filterList(method, result);
        const next = (result as { nextCursor?: unknown }).nextCursor;
        if (typeof next !== 'string' || next === '') break;
        cursor = next;
      }
    }
  };

  // One read at a time; a notification during a read asks for one more afterwards.
  const refresh = (): Promise<void> => {
    if (closed) return Promise.resolve();
    if (running !== undefined) {
      again = true;
      return running;
    }
    running = (async () => {
      do {
        again = false;
        try {
          await readAll();
          opts.onRead?.();
        } catch (err) {
          opts.onError(err as Error);
          const c = client;
          client = undefined;
          await c?.close().catch(() => {});
        }
      } while (again && !closed);
    })().finally(() => {
      running = undefined;
    });
    return running;
  };

  const timer = setInterval(() => void refresh(), opts.intervalMs);
  timer.unref();
  return {
    refresh,
    async close() {
      closed = true;
      clearInterval(timer);
      await running;
      await client?.close().catch(() => {});
    },
  };
}
