// @peculiar/x509's dependency injection (tsyringe) needs the Reflect metadata API before it loads.
import 'reflect-metadata';
import { KeyObject, type webcrypto, X509Certificate } from 'node:crypto';
import { isIP } from 'node:net';
import * as x509 from '@peculiar/x509';
import { LABELS, MANAGED_BY, PART_OF } from '../api/group.ts';
import type { KubeClient } from '../kube/client.ts';
import { KubeError } from '../kube/errors.ts';
import type { KubeObject } from '../kube/object.ts';
import { Resources } from '../kube/resources.ts';

// The webhook's certificates, kept in a Secret the operator creates and owns (by label): a CA and a
// serving certificate for the webhook's host names. Every replica reads the same Secret; the first
// one creates it. A certificate that expires within RENEW_BEFORE_DAYS, or does not name the hosts,
// is replaced (update with the resourceVersion read, so two replicas never both write). A Secret of
// that name the operator did not create is never touched: the webhook does not start. Issued with
// @peculiar/x509 on WebCrypto (Node makes keys and verifies certificates but cannot issue them): a
// self-signed CA and a serving certificate it signs, ECDSA P-256.

const VALID_DAYS = 365;
const RENEW_BEFORE_DAYS = 30;
const COMPONENT = 'admission-webhook';
const CA_NAME = 'portcullis-webhook-ca';
const CLOCK_SKEW_MS = 5 * 60_000; // notBefore in the past: the nodes' clocks differ
const EC_P256 = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' };

export interface IssuedCertificate {
  certPem: string;
  keyPem: string;
}

interface SecretObject extends KubeObject {
  type?: string;
  data?: Record<string, string>;
}

export interface WebhookCertificates {
  caPem: string;
  serving: IssuedCertificate;
}

const b64 = (s: string) => Buffer.from(s).toString('base64');
const unb64 = (s: string | undefined) => (s === undefined ? undefined : Buffer.from(s, 'base64').toString());

const keyPair = () => crypto.subtle.generateKey(EC_P256, true, ['sign', 'verify']);
// Ended by a newline, as Node's own PEM is, so that PEM files and bundles concatenate.
const certPem = (cert: x509.X509Certificate) => `${cert.toString('pem')}\n`;
const pkcs8Pem = (key: webcrypto.CryptoKey) =>
  KeyObject.from(key).export({ type: 'pkcs8', format: 'pem' }).toString();
const sanEntry = (host: string): x509.JsonGeneralName => ({ type: isIP(host) ? 'ip' : 'dns', value: host });

/** A CA and a serving certificate for `hosts` (DNS names or IP addresses) that it signed. */
export async function issueWebhookCertificates(
  hosts: readonly string[],
  now: Date,
  validDays: number,
): Promise<{ ca: IssuedCertificate; serving: IssuedCertificate }> {
  const notBefore = new Date(now.getTime() - CLOCK_SKEW_MS);
  const notAfter = new Date(now.getTime() + validDays * 86_400_000);
  const caKeys = await keyPair();
  const ca = await x509.X509CertificateGenerator.createSelfSigned({
    name: [{ CN: [CA_NAME] }],
    keys: caKeys,
    signingAlgorithm: EC_P256,
    notBefore,
    notAfter,
    extensions: [
      new x509.BasicConstraintsExtension(true, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
      await x509.SubjectKeyIdentifierExtension.create(caKeys.publicKey),
    ],
  });
  const leafKeys = await keyPair();
  const leaf = await x509.X509CertificateGenerator.create({
    subject: [{ CN: [hosts[0] ?? 'portcullis-webhook'] }],
    issuer: ca.subjectName,
    publicKey: leafKeys.publicKey,
    signingKey: caKeys.privateKey,
    signingAlgorithm: EC_P256,
    notBefore,
    notAfter,
    extensions: [
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
      new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth]),
      new x509.SubjectAlternativeNameExtension(hosts.map(sanEntry)),
      await x509.SubjectKeyIdentifierExtension.create(leafKeys.publicKey),
      await x509.AuthorityKeyIdentifierExtension.create(caKeys.publicKey),
    ],
  });
  return {
    ca: { certPem: certPem(ca), keyPem: pkcs8Pem(caKeys.privateKey) },
    serving: { certPem: certPem(leaf), keyPem: pkcs8Pem(leafKeys.privateKey) },
  };
}

/** Pure: whether the stored certificates still serve `hosts` until well after `now`. */
export function stillGood(
  data: Record<string, string> | undefined,
  hosts: readonly string[],
  now: Date,
): boolean {
  const cert = unb64(data?.['tls.crt']);
  if (cert === undefined || unb64(data?.['tls.key']) === undefined || unb64(data?.['ca.crt']) === undefined)
    return false;
  try {
    const x = new X509Certificate(cert);
    const renewAt = new Date(x.validTo).getTime() - RENEW_BEFORE_DAYS * 86_400_000;
    return now.getTime() < renewAt && hosts.every((h) => (x.checkHost(h) ?? x.checkIP(h)) !== undefined);
  } catch {
    return false;
  }
}

async function secretOf(
  namespace: string,
  name: string,
  hosts: readonly string[],
  now: Date,
  resourceVersion?: string,
): Promise<SecretObject> {
  const { ca, serving } = await issueWebhookCertificates(hosts, now, VALID_DAYS);
  return {
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: {
      name,
      namespace,
      ...(resourceVersion ? { resourceVersion } : {}),
      labels: { [LABELS.managedBy]: MANAGED_BY, [LABELS.partOf]: PART_OF, [LABELS.component]: COMPONENT },
    },
    type: 'kubernetes.io/tls',
    data: {
      'ca.crt': b64(ca.certPem),
      'ca.key': b64(ca.keyPem),
      'tls.crt': b64(serving.certPem),
      'tls.key': b64(serving.keyPem),
    },
  };
}

function certificatesOf(secret: SecretObject): WebhookCertificates {
  return {
    caPem: unb64(secret.data?.['ca.crt']) ?? '',
    serving: {
      certPem: unb64(secret.data?.['tls.crt']) ?? '',
      keyPem: unb64(secret.data?.['tls.key']) ?? '',
    },
  };
}

export async function ensureCertificates(
  client: KubeClient,
  where: { namespace: string; name: string },
  hosts: readonly string[],
  now: () => Date,
): Promise<WebhookCertificates> {
  for (let attempt = 0; attempt < 5; attempt++) {
    const current = await client.get<SecretObject>(Resources.Secret, where.namespace, where.name);
    if (current === undefined) {
      try {
        return certificatesOf(
          await client.create<SecretObject>(await secretOf(where.namespace, where.name, hosts, now())),
        );
      } catch (err) {
        if (err instanceof KubeError && err.code === 'CONFLICT') continue; // another replica created it
        throw err;
      }
    }
    if (current.metadata.labels?.[LABELS.managedBy] !== MANAGED_BY) {
      throw new Error(
        `Secret ${where.namespace}/${where.name} exists and was not created by Portcullis; choose another --webhook-secret`,
      );
    }
    if (stillGood(current.data, hosts, now())) return certificatesOf(current);
    try {
      const renewed = await secretOf(
        where.namespace,
        where.name,
        hosts,
        now(),
        current.metadata.resourceVersion,
      );
      return certificatesOf(await client.update<SecretObject>(renewed));
    } catch (err) {
      if (err instanceof KubeError && err.code === 'CONFLICT') continue; // another replica renewed it
      throw err;
    }
  }
  throw new Error(`Secret ${where.namespace}/${where.name}: too many concurrent writers`);
}
