import { Server } from 'node:net';

// Preloaded (node --import) into the quick start's "everything" server, which calls app.listen(PORT)
// without a host, so it would listen on every interface, and offers no option to choose one. Here a
// listen given no host binds loopback: only the sidecar, on the same machine, reaches that server.

const LOOPBACK = '127.0.0.1';
const listen = Server.prototype.listen;

function isPort(v: unknown): boolean {
  return typeof v === 'number' || (typeof v === 'string' && /^\d+$/.test(v));
}

Server.prototype.listen = function (this: Server, ...args: unknown[]) {
  const [first, second] = args;
  if (isPort(first) && typeof second !== 'string') args.splice(1, 0, LOOPBACK);
  else if (typeof first === 'object' && first !== null && !('host' in first) && !('path' in first))
    args[0] = { ...first, host: LOOPBACK };
  return listen.apply(this, args as Parameters<typeof listen>);
} as typeof listen;
