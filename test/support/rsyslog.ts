import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { connect, createServer } from 'node:net';
import { join } from 'node:path';

// Debian's rsyslogd as a real syslog receiver: an unprivileged foreground process with its own
// config, ports and files in a temp dir, listening on plain TCP and on TLS (gtls driver, certificate
// from a throwaway CA made with openssl), writing each message's MSG part, one per line.

export interface Rsyslog {
  tcpPort: number;
  tlsPort: number;
  caFile: string;
  tcpFile: string;
  tlsFile: string;
  lines(file: string): string[];
  stop(): Promise<void>;
  start(): Promise<void>;
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

function makeCertificates(dir: string): void {
  const run = (args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });
  run([
    'req',
    '-x509',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-days',
    '1',
    '-subj',
    '/CN=test-ca',
    '-keyout',
    'ca.key',
    '-out',
    'ca.pem',
  ]);
  run([
    'req',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-subj',
    '/CN=localhost',
    '-keyout',
    'server.key',
    '-out',
    'server.csr',
  ]);
  writeFileSync(join(dir, 'san.ext'), 'subjectAltName=DNS:localhost,IP:127.0.0.1\n');
  run([
    'x509',
    '-req',
    '-in',
    'server.csr',
    '-CA',
    'ca.pem',
    '-CAkey',
    'ca.key',
    '-CAcreateserial',
    '-days',
    '1',
    '-extfile',
    'san.ext',
    '-out',
    'server.pem',
  ]);
}

async function waitForPort(port: number, proc: ChildProcess, stderr: () => string): Promise<void> {
  for (let i = 0; i < 200; i++) {
    if (proc.exitCode !== null) throw new Error(`rsyslogd exited (${proc.exitCode}): ${stderr()}`);
    const ok = await new Promise<boolean>((resolve) => {
      const s = connect(port, '127.0.0.1');
      s.once('connect', () => {
        s.destroy();
        resolve(true);
      });
      s.once('error', () => resolve(false));
    });
    if (ok) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`rsyslogd did not listen on ${port}: ${stderr()}`);
}

export async function startRsyslog(dir: string): Promise<Rsyslog> {
  makeCertificates(dir);
  const tcpPort = await freePort();
  const tlsPort = await freePort();
  const tcpFile = join(dir, 'tcp.log');
  const tlsFile = join(dir, 'tls.log');
  const conf = join(dir, 'rsyslog.conf');
  writeFileSync(
    conf,
    `global(
  workDirectory="${dir}"
  maxMessageSize="256k"
  defaultNetstreamDriverCAFile="${join(dir, 'ca.pem')}"
  defaultNetstreamDriverCertFile="${join(dir, 'server.pem')}"
  defaultNetstreamDriverKeyFile="${join(dir, 'server.key')}"
)
module(load="imtcp" maxSessions="200")
template(name="msgonly" type="string" string="%msg%\\n")
ruleset(name="plain") { action(type="omfile" file="${tcpFile}" template="msgonly") }
ruleset(name="tls") { action(type="omfile" file="${tlsFile}" template="msgonly") }
input(type="imtcp" port="${tcpPort}" address="127.0.0.1" ruleset="plain")
input(type="imtcp" port="${tlsPort}" address="127.0.0.1" ruleset="tls"
      streamDriver.name="gtls" streamDriver.mode="1" streamDriver.authMode="anon")
`,
  );
  let proc: ChildProcess | undefined;
  let err = '';

  const start = async () => {
    err = '';
    // /usr/sbin is not on every user's PATH.
    const bin = existsSync('/usr/sbin/rsyslogd') ? '/usr/sbin/rsyslogd' : 'rsyslogd';
    proc = spawn(bin, ['-n', '-f', conf, '-i', join(dir, 'rsyslogd.pid')], {
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    proc.stderr?.on('data', (d: Buffer) => {
      err += d.toString();
    });
    await waitForPort(tcpPort, proc, () => err);
    await waitForPort(tlsPort, proc, () => err);
  };
  const stop = async () => {
    const p = proc;
    proc = undefined;
    if (!p || p.exitCode !== null) return;
    await new Promise<void>((resolve) => {
      p.once('exit', () => resolve());
      p.kill('SIGTERM');
    });
  };
  await start();
  return {
    tcpPort,
    tlsPort,
    caFile: join(dir, 'ca.pem'),
    tcpFile,
    tlsFile,
    lines: (file) =>
      existsSync(file)
        ? readFileSync(file, 'utf8')
            .split('\n')
            .filter((l) => l !== '')
        : [],
    stop,
    start,
  };
}
