import { readFileSync, unwatchFile, watchFile } from 'node:fs';

// A value parsed from a mounted Secret file, kept current without a restart. Polled with stat,
// which survives the symlink swap Kubernetes uses to update Secret volumes. The first read throws
// (configuration fails fast); a later unreadable or invalid file is reported and the last good
// value stays in force.

export interface SecretFile<T> {
  current(): T;
  close(): void;
}

export function watchSecretFile<T>(
  file: string,
  parse: (text: string, file: string) => T,
  onError: (err: Error) => void,
  intervalMs = 2_000,
): SecretFile<T> {
  let value = parse(readFileSync(file, 'utf8'), file);
  const listener = () => {
    try {
      value = parse(readFileSync(file, 'utf8'), file);
    } catch (err) {
      onError(err as Error);
    }
  };
  watchFile(file, { interval: intervalMs, persistent: false }, listener);
  return {
    current: () => value,
    close: () => unwatchFile(file, listener),
  };
}

/** A header value from a Secret key: trailing newlines (as `echo` writes them) are not part of it. */
export function parseHeaderValue(text: string, file: string): string {
  const value = text.replace(/\r?\n$/, '');
  if (value === '') throw new Error(`${file}: empty`);
  if (/[\r\n\0]/.test(value)) throw new Error(`${file}: a header value cannot hold line breaks or NUL`);
  return value;
}
