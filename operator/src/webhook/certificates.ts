import { X509Certificate } from 'node:crypto';
import { LABELS, MANAGED_BY, PART_OF } from '../api/group.ts';
import type { KubeClient } from '../kube/client.ts';
import { KubeError } from '../kube/errors.ts';
import type { KubeObject } from '../kube/object.ts';
import { Resources } from '../kube/resources.ts';
import { type IssuedCertificate, issueWebhookCertificates } from './x509.ts';

// The webhook's certificates, kept in a Secret the operator creates and owns (by label): a CA and a
// serving certificate for the webhook's host names. Every replica reads the same Secret; the first
// one creates it. A certificate that expires within RENEW_BEFORE_DAYS, or does not name the hosts,
// is replaced (update with the resourceVersion read, so two replicas never both write). A Secret of
// that name the operator did not create is never touched: the webhook does not start.

const VALID_DAYS = 365;
const RENEW_BEFORE_DAYS = 30;
const COMPONENT = 'admission-webhook';

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

function secretOf(
  namespace: string,
  name: string,
  hosts: readonly string[],
  now: Date,
  resourceVersion?: string,
): SecretObject {
  const { ca, serving } = issueWebhookCertificates(hosts, now, VALID_DAYS);
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
          await client.create<SecretObject>(secretOf(where.namespace, where.name, hosts, now())),
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
      const renewed = secretOf(where.namespace, where.name, hosts, now(), current.metadata.resourceVersion);
      return certificatesOf(await client.update<SecretObject>(renewed));
    } catch (err) {
      if (err instanceof KubeError && err.code === 'CONFLICT') continue; // another replica renewed it
      throw err;
    }
  }
  throw new Error(`Secret ${where.namespace}/${where.name}: too many concurrent writers`);
}
