import { fetch } from 'undici';
import type { Connection } from './connection.ts';
import { codeForStatus, KubeError } from './errors.ts';

// One watch request: streams newline-delimited JSON events to onEvent until the server ends the
// response, the connection breaks or stop() is called. Resolves on a clean end, rejects otherwise.

export interface WatchEvent<T> {
  type: 'ADDED' | 'MODIFIED' | 'DELETED' | 'BOOKMARK' | 'ERROR';
  object: T;
}

export interface WatchHandle {
  done: Promise<void>;
  stop(): void;
}

export function watch<T>(
  conn: Connection,
  path: string,
  query: Record<string, string>,
  onEvent: (event: WatchEvent<T>) => void,
): WatchHandle {
  const controller = new AbortController();
  const url = new URL(conn.server + path);
  url.searchParams.set('watch', 'true');
  for (const [k, v] of Object.entries(query)) url.searchParams.set(k, v);
  const done = (async () => {
    const response = await fetch(url, {
      headers: { ...(await conn.headers()), accept: 'application/json' },
      dispatcher: conn.watchDispatcher,
      signal: controller.signal,
    }).catch((err: unknown) => {
      if (controller.signal.aborted) return undefined;
      throw new KubeError('UNAVAILABLE', 0, `watch ${path}: ${(err as Error).message}`, undefined, err);
    });
    if (!response) return;
    if (!response.ok || !response.body) {
      const text = await response.text().catch(() => '');
      throw new KubeError(
        codeForStatus(response.status),
        response.status,
        `watch ${path}: HTTP ${response.status} ${text.slice(0, 200)}`,
      );
    }
    const decoder = new TextDecoder();
    let buffered = '';
    try {
      for await (const chunk of response.body) {
        buffered += decoder.decode(chunk as Uint8Array, { stream: true });
        let newline = buffered.indexOf('\n');
        while (newline >= 0) {
          const line = buffered.slice(0, newline).trim();
          buffered = buffered.slice(newline + 1);
          if (line) onEvent(JSON.parse(line) as WatchEvent<T>);
          newline = buffered.indexOf('\n');
        }
      }
    } catch (err) {
      if (controller.signal.aborted) return;
      throw new KubeError('UNAVAILABLE', 0, `watch ${path}: ${(err as Error).message}`, undefined, err);
    }
  })();
  return { done, stop: () => controller.abort() };
}
