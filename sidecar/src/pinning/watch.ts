import { Client } from '@modelcontextprotocol/sdk/client/index.js';
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
// does on the reply path.

export interface PinWatcherOptions {
  readonly url: string;
  readonly headers: Readonly<Record<string, string>>;
  readonly book: PinBook;
  readonly intervalMs: number;
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

export function startPinWatcher(opts: PinWatcherOptions): PinWatcher {
  let client: Client | undefined;
  let running: Promise<void> | undefined;
  let again = false;
  let closed = false;

  const connect = async (): Promise<Client> => {
    if (client !== undefined) return client;
    const c = new Client({ name: 'portcullis-pinning', version: '1' });
    const transport = new StreamableHTTPClientTransport(new URL(opts.url), {
      requestInit: { headers: { ...opts.headers } },
    });
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
