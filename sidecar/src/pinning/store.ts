import { readFile, rename, writeFile } from 'node:fs/promises';
import type { PinStore, TrustedPin } from './book.ts';

// Pins trusted on first use, kept in a JSON file (standalone sidecars): written whole to a temporary
// file and renamed, so a crash leaves the old file or the new one, never half of one. Writes are
// serialized, so two pins trusted at once both land.

export function filePinStore(path: string): PinStore {
  const pins = new Map<string, TrustedPin>();
  let writing: Promise<void> = Promise.resolve();
  return {
    async load() {
      let text: string;
      try {
        text = await readFile(path, 'utf8');
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'ENOENT') return new Map();
        throw err;
      }
      let doc: { pins?: Record<string, TrustedPin> };
      try {
        doc = JSON.parse(text) as typeof doc;
      } catch (err) {
        throw new Error(`pinning trust store ${path} is not JSON: ${(err as Error).message}`);
      }
      for (const [key, pin] of Object.entries(doc.pins ?? {})) pins.set(key, pin);
      return new Map(pins);
    },
    save(key, pin) {
      pins.set(key, pin);
      const text = `${JSON.stringify({ pins: Object.fromEntries(pins) }, null, 2)}\n`;
      // A failed write is reported to its caller only; the next one still runs.
      writing = writing
        .catch(() => {})
        .then(async () => {
          await writeFile(`${path}.tmp`, text, { mode: 0o600 });
          await rename(`${path}.tmp`, path);
        });
      return writing;
    },
  };
}
