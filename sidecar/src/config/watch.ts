import { type FSWatcher, watch } from 'node:fs';
import { basename, dirname } from 'node:path';
import { type ConfigResult, loadConfigFile } from './load.ts';

// Watches a configuration file for changes. A Kubernetes ConfigMap mount replaces the file by
// swapping a `..data` symlink in its directory, which a watch on the file itself never sees, so the
// directory is watched and the file re-read (debounced) after any event in it. Only content that
// differs from the last seen digest is reported.

export interface ConfigWatcher {
  close(): void;
}

export interface WatchOptions {
  readonly initialDigest: string;
  readonly debounceMs?: number;
  readonly onResult: (result: ConfigResult) => void;
  readonly onError?: (err: Error) => void;
}

export function watchConfigFile(file: string, opts: WatchOptions): ConfigWatcher {
  const debounceMs = opts.debounceMs ?? 100;
  let lastDigest = opts.initialDigest;
  let timer: NodeJS.Timeout | undefined;
  let closed = false;
  const base = basename(file);

  const check = async () => {
    timer = undefined;
    const result = await loadConfigFile(file);
    if (closed || result.digest === '' || result.digest === lastDigest) return;
    lastDigest = result.digest;
    opts.onResult(result);
  };

  const watcher: FSWatcher = watch(dirname(file), { persistent: false }, (_event, name) => {
    // Editors and ConfigMaps touch sibling names (..data, .swp); re-read on any of them.
    if (closed || (name !== null && name !== base && !name.startsWith('..') && !name.startsWith('.'))) return;
    if (timer) clearTimeout(timer);
    timer = setTimeout(() => void check().catch((err: Error) => opts.onError?.(err)), debounceMs);
  });
  watcher.on('error', (err) => opts.onError?.(err));

  return {
    close() {
      closed = true;
      if (timer) clearTimeout(timer);
      watcher.close();
    },
  };
}
