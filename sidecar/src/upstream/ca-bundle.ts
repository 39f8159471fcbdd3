import { createSecureContext } from 'node:tls';
import { type SecretFile, watchSecretFile } from './secret-file.ts';

// The CA bundle an https upstream's certificate must chain to, read from a mounted Secret or
// ConfigMap key and kept current: a rotated CA reaches new connections without a restart. A bundle
// that does not parse is refused (the first one fails the configuration; a later one is reported
// and the last good one stays in force), so a bad edit never leaves the gateway trusting nothing or
// everything.

/** The PEM text, when Node can build a TLS context from it and it holds at least one certificate. */
export function parseCaBundle(text: string, file: string): string {
  if (!text.includes('-----BEGIN CERTIFICATE-----')) throw new Error(`${file}: no PEM certificate`);
  try {
    createSecureContext({ ca: text });
  } catch (err) {
    throw new Error(`${file}: not a CA bundle: ${(err as Error).message}`);
  }
  return text;
}

export function watchCaBundle(
  file: string,
  onChange: (pem: string) => void,
  onError: (err: Error) => void,
): SecretFile<string> {
  return watchSecretFile(file, parseCaBundle, onError, undefined, onChange);
}
