import { writeSync } from 'node:fs';
import { type FileHandle, mkdir, open, rename, rm, stat } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { AuditSink, SinkFormat, SinkRecord } from '../sink.ts';

// An NDJSON file with size-based rotation: path → path.1 → path.2 … path.<maxFiles>, oldest removed.
// A batch never straddles two files, so `audit:verify path.N … path.1 path` checks the whole trail.

export interface FileSinkOptions {
  name: string;
  format: SinkFormat;
  path: string;
  maxBytes: number;
  maxFiles: number;
  fsync: boolean;
}

export function createFileSink(opts: FileSinkOptions): AuditSink {
  let handle: FileHandle | undefined;
  let size = 0;

  async function ensureOpen(): Promise<FileHandle> {
    if (handle) return handle;
    await mkdir(dirname(opts.path), { recursive: true, mode: 0o700 });
    const h = await open(opts.path, 'a', 0o600);
    size = (await h.stat()).size;
    handle = h;
    return h;
  }

  async function rotate(): Promise<void> {
    await handle?.close();
    handle = undefined;
    await rm(`${opts.path}.${opts.maxFiles}`, { force: true });
    for (let i = opts.maxFiles - 1; i >= 1; i--) {
      if (await exists(`${opts.path}.${i}`)) await rename(`${opts.path}.${i}`, `${opts.path}.${i + 1}`);
    }
    await rename(opts.path, `${opts.path}.1`);
  }

  return {
    name: opts.name,
    type: 'file',
    format: opts.format,
    async write(batch: readonly SinkRecord[]) {
      let text = '';
      for (const r of batch) text += `${r.json}\n`;
      const buf = Buffer.from(text);
      const bytes = buf.length;
      try {
        let h = await ensureOpen();
        if (size > 0 && size + bytes > opts.maxBytes) {
          await rotate();
          h = await ensureOpen();
        }
        // A synchronous append (to the page cache) costs a few microseconds; the promise API's
        // round trip through the thread pool cost ten times that per batch on the request path.
        for (let off = 0; off < bytes; ) off += writeSync(h.fd, buf, off);
        size += bytes;
        if (opts.fsync) await h.datasync();
      } catch (err) {
        // Reopen next time: the file may have been removed or the disk remounted.
        await handle?.close().catch(() => {});
        handle = undefined;
        throw err;
      }
    },
    async close() {
      await handle?.close();
      handle = undefined;
    },
  };
}

async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch {
    return false;
  }
}
