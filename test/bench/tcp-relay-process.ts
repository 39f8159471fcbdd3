import { connect, createServer } from 'node:net';

// The benchmark's second yardstick: a TCP relay that copies bytes both ways and parses nothing. What
// it adds is what one more process on the path costs on this machine (waking it, two more trips
// through the loopback), apart from any HTTP. Usage: tcp-relay-process.ts UPSTREAM_URL. Prints its
// URL (the upstream's path on the relay's port) on the first line of stdout.

const upstream = new URL(process.argv[2] ?? '');
const server = createServer((client) => {
  const up = connect(Number(upstream.port), upstream.hostname);
  const close = () => {
    client.destroy();
    up.destroy();
  };
  for (const socket of [client, up]) socket.setNoDelay(true).on('error', close);
  client.pipe(up).pipe(client);
});
server.listen(0, '127.0.0.1', () => {
  const { port } = server.address() as { port: number };
  process.stdout.write(`URL http://127.0.0.1:${port}${upstream.pathname}\n`);
});
process.on('SIGTERM', () => process.exit(0));
