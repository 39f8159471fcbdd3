import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Pool } from 'undici';

// The benchmark's yardstick: the least any Node proxy does (node:http in, an undici pool out, the
// body passed through, no checks), measured beside the sidecar so the cost of the extra hop on this
// machine is known apart from the sidecar's own work. Usage: bare-proxy-process.ts UPSTREAM_URL.
// Prints its URL on the first line of stdout.

const upstream = new URL(process.argv[2] ?? '');
const pool = new Pool(upstream.origin, { connections: 256 });
const PASS = ['content-type', 'accept', 'mcp-session-id', 'mcp-protocol-version'];

const server = createServer(async (req, res) => {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  const headers: Record<string, string> = {};
  for (const name of PASS) {
    const v = req.headers[name];
    if (typeof v === 'string') headers[name] = v;
  }
  try {
    const up = await pool.request({
      method: req.method as 'POST',
      path: upstream.pathname,
      headers,
      body: Buffer.concat(chunks),
    });
    const body = await up.body.text();
    const out: Record<string, string> = { 'content-length': String(Buffer.byteLength(body)) };
    for (const name of PASS) {
      const v = up.headers[name];
      if (typeof v === 'string') out[name] = v;
    }
    res.writeHead(up.statusCode, out).end(body);
  } catch {
    res.writeHead(502).end();
  }
});
server.listen(0, '127.0.0.1', () => {
  process.stdout.write(`URL http://127.0.0.1:${(server.address() as AddressInfo).port}/mcp\n`);
});
process.on('SIGTERM', () => process.exit(0));
