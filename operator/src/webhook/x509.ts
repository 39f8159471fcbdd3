import { createHash, generateKeyPairSync, type KeyObject, randomBytes, sign } from 'node:crypto';

// The webhook's own certificates: a self-signed CA and a serving certificate it signs, ECDSA P-256.
// Hand-written DER because Node can make keys and verify certificates (X509Certificate) but not issue
// them, and the packages that can (@peculiar/x509, node-forge) would add a dependency to the
// operator image for ~100 lines of well-specified encoding (RFC 5280); every certificate made here is
// parsed back and verified with Node's X509Certificate by its tests.

type Der = Buffer;

function length(n: number): Buffer {
  if (n < 0x80) return Buffer.from([n]);
  const bytes: number[] = [];
  for (let v = n; v > 0; v >>= 8) bytes.unshift(v & 0xff);
  return Buffer.from([0x80 | bytes.length, ...bytes]);
}

const tlv = (tag: number, content: Buffer): Der =>
  Buffer.concat([Buffer.from([tag]), length(content.length), content]);
const seq = (...items: Der[]) => tlv(0x30, Buffer.concat(items));
const set = (...items: Der[]) => tlv(0x31, Buffer.concat(items));
const explicit = (n: number, item: Der) => tlv(0xa0 + n, item);
const octets = (b: Buffer) => tlv(0x04, b);
const bits = (b: Buffer) => tlv(0x03, Buffer.concat([Buffer.from([0]), b]));
const bool = (v: boolean) => tlv(0x01, Buffer.from([v ? 0xff : 0]));

function integer(b: Buffer): Der {
  let i = 0;
  while (i < b.length - 1 && b[i] === 0) i++;
  const trimmed = b.subarray(i);
  return tlv(0x02, (trimmed[0] ?? 0) & 0x80 ? Buffer.concat([Buffer.from([0]), trimmed]) : trimmed);
}

function oid(dotted: string): Der {
  const [a = 0, b = 0, ...rest] = dotted.split('.').map(Number);
  const out = [40 * a + b];
  for (const n of rest) {
    const chunk = [n & 0x7f];
    for (let v = n >> 7; v > 0; v >>= 7) chunk.unshift(0x80 | (v & 0x7f));
    out.push(...chunk);
  }
  return tlv(0x06, Buffer.from(out));
}

function time(d: Date): Der {
  const iso = d.toISOString().replace(/[-:T]/g, '').slice(0, 14); // YYYYMMDDHHMMSS
  // UTCTime until 2049, GeneralizedTime after (RFC 5280 §4.1.2.5).
  return d.getUTCFullYear() < 2050
    ? tlv(0x17, Buffer.from(`${iso.slice(2)}Z`))
    : tlv(0x18, Buffer.from(`${iso}Z`));
}

const name = (cn: string) => seq(set(seq(oid('2.5.4.3'), tlv(0x0c, Buffer.from(cn, 'utf8')))));
const ECDSA_SHA256 = seq(oid('1.2.840.10045.4.3.2'));
const extension = (id: string, critical: boolean, value: Der) =>
  seq(oid(id), ...(critical ? [bool(true)] : []), octets(value));

function keyId(publicKey: KeyObject): Buffer {
  return createHash('sha1')
    .update(publicKey.export({ type: 'spki', format: 'der' }))
    .digest();
}

function sanEntry(host: string): Der {
  const v4 = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(host);
  if (v4) return tlv(0x87, Buffer.from(v4.slice(1).map(Number))); // iPAddress [7]
  return tlv(0x82, Buffer.from(host, 'ascii')); // dNSName [2]
}

export interface IssuedCertificate {
  certPem: string;
  keyPem: string;
}

interface Issue {
  subject: string;
  publicKey: KeyObject;
  issuer: { name: string; key: KeyObject; publicKey: KeyObject };
  notBefore: Date;
  notAfter: Date;
  ca: boolean;
  hosts: readonly string[];
}

function issue(o: Issue): string {
  const extensions = [
    extension('2.5.29.19', true, seq(...(o.ca ? [bool(true)] : []))),
    // keyUsage: keyCertSign + cRLSign for the CA, digitalSignature for the server.
    extension(
      '2.5.29.15',
      true,
      o.ca ? tlv(0x03, Buffer.from([1, 0x06])) : tlv(0x03, Buffer.from([7, 0x80])),
    ),
    extension('2.5.29.14', false, octets(keyId(o.publicKey))),
    extension('2.5.29.35', false, seq(tlv(0x80, keyId(o.issuer.publicKey)))),
    ...(o.ca
      ? []
      : [
          extension('2.5.29.37', false, seq(oid('1.3.6.1.5.5.7.3.1'))),
          extension('2.5.29.17', false, seq(...o.hosts.map(sanEntry))),
        ]),
  ];
  const tbs = seq(
    explicit(0, integer(Buffer.from([2]))), // v3
    integer(Buffer.concat([Buffer.from([0x01]), randomBytes(15)])),
    ECDSA_SHA256,
    name(o.issuer.name),
    seq(time(o.notBefore), time(o.notAfter)),
    name(o.subject),
    o.publicKey.export({ type: 'spki', format: 'der' }),
    explicit(3, seq(...extensions)),
  );
  const signature = sign('sha256', tbs, o.issuer.key); // DER ECDSA-Sig-Value
  const der = seq(tbs, ECDSA_SHA256, bits(signature));
  return `-----BEGIN CERTIFICATE-----\n${der.toString('base64').replace(/.{1,64}/g, '$&\n')}-----END CERTIFICATE-----\n`;
}

const keyPair = () => generateKeyPairSync('ec', { namedCurve: 'P-256' });
const pem = (k: KeyObject) => k.export({ type: 'pkcs8', format: 'pem' }).toString();

/** A CA and a serving certificate for `hosts` (DNS names or IPv4 addresses) that it signed. */
export function issueWebhookCertificates(
  hosts: readonly string[],
  now: Date,
  validDays: number,
): { ca: IssuedCertificate; serving: IssuedCertificate } {
  const notBefore = new Date(now.getTime() - 5 * 60_000); // clock skew between nodes
  const notAfter = new Date(now.getTime() + validDays * 86_400_000);
  const ca = keyPair();
  const caName = 'portcullis-webhook-ca';
  const caCert = issue({
    subject: caName,
    publicKey: ca.publicKey,
    issuer: { name: caName, key: ca.privateKey, publicKey: ca.publicKey },
    notBefore,
    notAfter,
    ca: true,
    hosts: [],
  });
  const leaf = keyPair();
  const leafCert = issue({
    subject: hosts[0] ?? 'portcullis-webhook',
    publicKey: leaf.publicKey,
    issuer: { name: caName, key: ca.privateKey, publicKey: ca.publicKey },
    notBefore,
    notAfter,
    ca: false,
    hosts,
  });
  return {
    ca: { certPem: caCert, keyPem: pem(ca.privateKey) },
    serving: { certPem: leafCert, keyPem: pem(leaf.privateKey) },
  };
}
