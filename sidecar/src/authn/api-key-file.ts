import { readFileSync, unwatchFile, watchFile } from 'node:fs';
import { parseSecretYaml } from '../config/secret-yaml.ts';
import type { ApiKeyEntry } from './api-keys.ts';

// API keys kept in a file (a mounted Secret), same shape as `authentication.apiKeys`, in YAML or
// JSON. Polled with stat, which survives the symlink swap Kubernetes uses to update Secret volumes;
// an unreadable or invalid new file is refused and the last good keys stay in force.

/** Pure: validate a parsed file; throws with the path of the first fault. */
export function parseApiKeyFile(text: string, file: string): ApiKeyEntry[] {
  const doc = parseSecretYaml(text, file);
  const list = Array.isArray(doc) ? doc : (doc as { apiKeys?: unknown } | null)?.apiKeys;
  if (!Array.isArray(list)) throw new Error(`${file}: expected a list of API keys (or {apiKeys: [...]})`);
  return list.map((raw: unknown, i): ApiKeyEntry => {
    const e = raw as Record<string, unknown> | null;
    const at = `${file}[${i}]`;
    if (typeof e !== 'object' || e === null) throw new Error(`${at}: expected an object`);
    for (const k of Object.keys(e)) {
      if (!['id', 'sha256', 'subject', 'groups'].includes(k)) throw new Error(`${at}.${k}: unknown field`);
    }
    if (typeof e.id !== 'string' || e.id === '') throw new Error(`${at}.id: required string`);
    if (typeof e.subject !== 'string' || e.subject === '') throw new Error(`${at}.subject: required string`);
    if (typeof e.sha256 !== 'string' || !/^[0-9a-f]{64}$/.test(e.sha256)) {
      throw new Error(`${at}.sha256: 64 lowercase hex digits`);
    }
    const groups = e.groups ?? [];
    if (!Array.isArray(groups) || !groups.every((g) => typeof g === 'string')) {
      throw new Error(`${at}.groups: list of strings`);
    }
    return { id: e.id, sha256: e.sha256, subject: e.subject, groups };
  });
}

export function readApiKeyFile(file: string): ApiKeyEntry[] {
  return parseApiKeyFile(readFileSync(file, 'utf8'), file);
}

export interface ApiKeyFileWatch {
  close(): void;
}

export function watchApiKeyFile(
  file: string,
  onKeys: (keys: ApiKeyEntry[]) => void,
  onError: (err: Error) => void,
  intervalMs = 2_000,
): ApiKeyFileWatch {
  const listener = () => {
    try {
      onKeys(readApiKeyFile(file));
    } catch (err) {
      onError(err as Error);
    }
  };
  watchFile(file, { interval: intervalMs, persistent: false }, listener);
  return { close: () => unwatchFile(file, listener) };
}
