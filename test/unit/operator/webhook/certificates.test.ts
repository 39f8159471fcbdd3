import { execFile } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { issueWebhookCertificates, stillGood } from '../../../../operator/src/webhook/certificates.ts';

// The webhook's certificates (issued with @peculiar/x509) are what X.509 verifiers accept: Node's
// X509Certificate and OpenSSL's `verify` with the purpose the API server checks (sslserver), for DNS
// names and IPv4 and IPv6 addresses.

const NOW = new Date('2026-12-05T08:00:00Z');
const HOSTS = ['portcullis-webhook.portcullis-system.svc', '127.0.0.1', '::1'];
const b64 = (s: string) => Buffer.from(s).toString('base64');

describe('issueWebhookCertificates', async () => {
  const { ca, serving } = await issueWebhookCertificates(HOSTS, NOW, 365);
  const caCert = new X509Certificate(ca.certPem);
  const cert = new X509Certificate(serving.certPem);

  it('a CA that signed a serving certificate for every host, valid a year', () => {
    expect(caCert.ca).toBe(true);
    expect(cert.ca).toBe(false);
    expect(cert.checkIssued(caCert)).toBe(true);
    expect(cert.verify(caCert.publicKey)).toBe(true);
    expect(cert.checkHost(HOSTS[0] ?? '')).toBe(HOSTS[0]);
    expect(cert.checkIP('127.0.0.1')).toBe('127.0.0.1');
    expect(cert.checkIP('::1')).toBe('::1');
    expect(cert.checkHost('other.example.com')).toBeUndefined();
    expect(cert.keyUsage).toEqual(['1.3.6.1.5.5.7.3.1']);
    expect(new Date(cert.validTo).getTime() - NOW.getTime()).toBe(365 * 86_400_000);
  });

  it('passes openssl verify -purpose sslserver', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'webhook-pki-'));
    try {
      await writeFile(join(dir, 'ca.pem'), ca.certPem);
      await writeFile(join(dir, 'tls.pem'), serving.certPem);
      const { stdout } = await promisify(execFile)('openssl', [
        'verify',
        '-attime',
        String(Math.floor(NOW.getTime() / 1000) + 60),
        '-purpose',
        'sslserver',
        '-CAfile',
        join(dir, 'ca.pem'),
        join(dir, 'tls.pem'),
      ]);
      expect(stdout).toContain('OK');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('stillGood', async () => {
  const { ca, serving } = await issueWebhookCertificates(HOSTS, NOW, 365);
  const data = { 'ca.crt': b64(ca.certPem), 'tls.crt': b64(serving.certPem), 'tls.key': b64(serving.keyPem) };
  it.each([
    { name: 'fresh, for the same hosts', data, hosts: HOSTS, now: NOW, good: true },
    {
      name: 'within 30 days of expiry',
      data,
      hosts: HOSTS,
      now: new Date(NOW.getTime() + 340 * 86_400_000),
      good: false,
    },
    { name: 'a host it does not name', data, hosts: [...HOSTS, 'new.example.svc'], now: NOW, good: false },
    { name: 'no key', data: { ...data, 'tls.key': undefined as never }, hosts: HOSTS, now: NOW, good: false },
    {
      name: 'not a certificate',
      data: { ...data, 'tls.crt': b64('junk') },
      hosts: HOSTS,
      now: NOW,
      good: false,
    },
  ])('$name → $good', ({ data, hosts, now, good }) => {
    expect(stillGood(data, hosts, now)).toBe(good);
  });
});
