// Keys and certificates for a throwaway control plane: a CA, the apiserver's serving certificate,
// an admin client certificate (group system:masters) and the service-account signing key. openssl
// does this in a few calls; Node's crypto can make keys but not X.509 certificates.
import { execFile } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';

const openssl = (args: string[], cwd: string) => promisify(execFile)('openssl', args, { cwd });

export interface Pki {
  caCert: string;
  servingCert: string;
  servingKey: string;
  adminCert: string;
  adminKey: string;
  serviceAccountKey: string;
  serviceAccountPub: string;
}

async function issue(dir: string, name: string, subject: string, days: string, extensions: string) {
  await openssl(['genrsa', '-out', `${name}.key`, '2048'], dir);
  await openssl(['req', '-new', '-key', `${name}.key`, '-subj', subject, '-out', `${name}.csr`], dir);
  await writeFile(join(dir, `${name}.ext`), extensions);
  await openssl(
    ['x509', '-req', '-in', `${name}.csr`, '-CA', 'ca.crt', '-CAkey', 'ca.key', '-CAcreateserial'].concat([
      '-days',
      days,
      '-sha256',
      '-extfile',
      `${name}.ext`,
      '-out',
      `${name}.crt`,
    ]),
    dir,
  );
}

export async function generatePki(dir: string): Promise<Pki> {
  await openssl(
    ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'ca.key', '-out', 'ca.crt'].concat([
      '-days',
      '2',
      '-subj',
      '/CN=portcullis-test-ca',
      '-addext',
      'basicConstraints=critical,CA:TRUE',
    ]),
    dir,
  );
  await Promise.all([
    // 10.96.0.1: the `kubernetes` Service's ClusterIP, which pods on the real node dial.
    issue(
      dir,
      'apiserver',
      '/CN=kube-apiserver',
      '2',
      'subjectAltName=IP:127.0.0.1,IP:10.96.0.1,DNS:localhost,DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc\n' +
        'extendedKeyUsage=serverAuth\nkeyUsage=critical,digitalSignature,keyEncipherment\n',
    ),
    issue(
      dir,
      'admin',
      '/O=system:masters/CN=portcullis-test-admin',
      '2',
      'extendedKeyUsage=clientAuth\nkeyUsage=critical,digitalSignature,keyEncipherment\n',
    ),
    openssl(['genrsa', '-out', 'sa.key', '2048'], dir).then(() =>
      openssl(['rsa', '-in', 'sa.key', '-pubout', '-out', 'sa.pub'], dir),
    ),
  ]);
  const at = (f: string) => join(dir, f);
  return {
    caCert: at('ca.crt'),
    servingCert: at('apiserver.crt'),
    servingKey: at('apiserver.key'),
    adminCert: at('admin.crt'),
    adminKey: at('admin.key'),
    serviceAccountKey: at('sa.key'),
    serviceAccountPub: at('sa.pub'),
  };
}
