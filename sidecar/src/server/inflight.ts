import type { IncomingMessage, Server, ServerResponse } from 'node:http';

/**
 * The calls in flight on a server: POST exchanges whose response has not closed yet (a GET stream is
 * not a call and may stay open for hours). Shutdown waits for them before closing connections, so a
 * SIGTERM does not cut a call that had already been admitted.
 */
export interface InflightCalls {
  readonly size: number;
  /** Resolves true once none is in flight, false when `timeoutMs` passes first. */
  drained(timeoutMs: number): Promise<boolean>;
}

export function trackInflightCalls(server: Server): InflightCalls {
  const open = new Set<ServerResponse>();
  const waiters = new Set<() => void>();
  server.on('request', (req: IncomingMessage, res: ServerResponse) => {
    if (req.method !== 'POST') return;
    open.add(res);
    res.once('close', () => {
      open.delete(res);
      if (open.size === 0) for (const wake of waiters) wake();
    });
  });
  return {
    get size() {
      return open.size;
    },
    drained(timeoutMs) {
      if (open.size === 0) return Promise.resolve(true);
      return new Promise((resolve) => {
        const done = (ok: boolean) => {
          clearTimeout(timer);
          waiters.delete(wake);
          resolve(ok);
        };
        const wake = () => done(true);
        const timer = setTimeout(() => done(false), timeoutMs);
        waiters.add(wake);
      });
    },
  };
}
