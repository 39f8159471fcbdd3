import { createServer, request } from 'node:http';

// A loopback HTTP relay that adds fixed headers to every request, standing in for a client that
// can carry a credential: the conformance suite and the Inspector CLI (0.15) have no option for
// request headers. Everything else passes through as sent, the Host header included (the suite's
// DNS-rebinding scenario sends a foreign one), and responses stream back unbuffered (SSE).

export interface HeaderRelay {
  /** The target URL's path on the relay's origin. */
  readonly url: string;
  close(): Promise<void>;
}

export async function startHeaderRelay(
  target: string,
  headers: Record<string, string>,
): Promise<HeaderRelay> {
  const upstream = new URL(target);
  const server = createServer((req, res) => {
    const out = request(
      {
        host: upstream.hostname,
        port: upstream.port,
        method: req.method,
        path: req.url,
        headers: { ...req.headers, ...headers },
      },
      (upRes) => {
        res.writeHead(upRes.statusCode ?? 502, upRes.headers);
        res.flushHeaders();
        upRes.pipe(res);
      },
    );
    out.on('error', () => {
      if (!res.headersSent) res.writeHead(502);
      res.end();
    });
    // A client that hangs up (the end of a GET stream) ends the upstream request too.
    res.on('close', () => out.destroy());
    req.pipe(out);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  return {
    url: `http://127.0.0.1:${port}${upstream.pathname}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
