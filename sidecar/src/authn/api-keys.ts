import { hash, timingSafeEqual } from 'node:crypto';
import type { Principal } from '../contract/principal.ts';

// API keys are configured as hex SHA-256 digests; the key itself is never stored. A presented key is
// hashed once and compared against every configured digest in constant time, with no early exit, so
// response time says nothing about which (or whether a) digest was close. The principal of each key
// is built once here: it acts as its configured subject (matching `user:` rules by that name), with
// its groups, and `apiKey:` rules match its id.

export interface ApiKeyEntry {
  id: string;
  sha256: string;
  subject: string;
  groups?: readonly string[];
}

export interface ApiKeyTable {
  readonly size: number;
  find(presentedKey: string): Principal | undefined;
}

export function hashApiKey(key: string): string {
  return hash('sha256', key);
}

interface CompiledKey {
  digest: Buffer;
  principal: Principal;
}

function principalOf(e: ApiKeyEntry): Principal {
  return Object.freeze({
    subject: e.subject,
    name: e.subject,
    groups: Object.freeze([...(e.groups ?? [])]),
    method: 'api-key',
    apiKeyId: e.id,
    scopes: Object.freeze([]),
    claims: Object.freeze({}),
  });
}

export function compileApiKeys(entries: readonly ApiKeyEntry[]): ApiKeyTable {
  const keys: CompiledKey[] = entries.map((e) => {
    if (!/^[0-9a-f]{64}$/.test(e.sha256)) {
      throw new Error(`API key '${e.id}': sha256 must be 64 lowercase hex digits`);
    }
    return { digest: Buffer.from(e.sha256, 'hex'), principal: principalOf(e) };
  });
  return {
    size: keys.length,
    find(presentedKey) {
      const digest = hash('sha256', presentedKey, 'buffer');
      let found: Principal | undefined;
      for (const k of keys) {
        // Evaluate every comparison; remember the first hit without leaving the loop early.
        if (timingSafeEqual(digest, k.digest) && found === undefined) found = k.principal;
      }
      return found;
    },
  };
}
