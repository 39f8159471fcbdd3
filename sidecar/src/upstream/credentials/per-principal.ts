import { parse } from 'yaml';
import { HOP_OR_PROTOCOL_HEADERS } from '../../config/load.ts';
import type { Principal } from '../../contract/principal.ts';
import { CredentialError, type CredentialSource, type UpstreamCredential } from './credential.ts';
import { watchSecretFile } from './secret-file.ts';

// `perPrincipal`: a mounted Secret maps each caller to their own downstream credential (Prefect's
// per-user X-Prefect-Api-Key). The file, YAML or JSON:
//
//   credentials:
//     - id: alice-prefect              # named in audit events; never the value
//       user: alice@example.com        # exactly one of user, group, serviceAccount ('ns/name')
//       headers: { X-Prefect-Api-Key: pnu_... }
//
// A user's own entry wins over a service account's, which wins over a group's (first in file
// order). A caller without an entry is refused: there is no shared fallback, and an anonymous
// caller never matches.

export interface PrincipalCredential {
  readonly id: string;
  readonly headers: Readonly<Record<string, string>>;
}

export interface PrincipalCredentialMap {
  readonly users: ReadonlyMap<string, PrincipalCredential>;
  readonly serviceAccounts: ReadonlyMap<string, PrincipalCredential>;
  readonly groups: readonly (readonly [string, PrincipalCredential])[];
}

const KINDS = ['user', 'group', 'serviceAccount'] as const;
const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
const ID = /^[A-Za-z0-9._:/@-]{1,128}$/;

/** Pure: validate a parsed mapping file; throws with the path of the first fault. */
export function parsePrincipalCredentials(text: string, file: string): PrincipalCredentialMap {
  const doc = parse(text) as { credentials?: unknown } | null;
  const list = doc?.credentials;
  if (!Array.isArray(list)) throw new Error(`${file}: expected {credentials: [...]}`);
  const users = new Map<string, PrincipalCredential>();
  const serviceAccounts = new Map<string, PrincipalCredential>();
  const groups: [string, PrincipalCredential][] = [];
  const ids = new Set<string>();
  list.forEach((raw: unknown, i) => {
    const at = `${file}: credentials[${i}]`;
    if (typeof raw !== 'object' || raw === null || Array.isArray(raw))
      throw new Error(`${at}: expected an object`);
    const e = raw as Record<string, unknown>;
    for (const k of Object.keys(e))
      if (k !== 'id' && k !== 'headers' && !(KINDS as readonly string[]).includes(k))
        throw new Error(`${at}.${k}: unknown field`);
    if (typeof e.id !== 'string' || !ID.test(e.id))
      throw new Error(`${at}.id: required, [A-Za-z0-9._:/@-]{1,128}`);
    if (ids.has(e.id)) throw new Error(`${at}.id: '${e.id}' appears twice`);
    ids.add(e.id);
    const kinds = KINDS.filter((k) => e[k] !== undefined);
    if (kinds.length !== 1) throw new Error(`${at}: exactly one of user, group, serviceAccount`);
    const kind = kinds[0] as (typeof KINDS)[number];
    const who = e[kind];
    if (typeof who !== 'string' || who === '') throw new Error(`${at}.${kind}: required string`);
    const credential = { id: e.id, headers: parseHeaders(e.headers, `${at}.headers`) };
    if (kind === 'group') groups.push([who, credential]);
    else {
      if (kind === 'serviceAccount' && !/^[^/]+\/[^/]+$/.test(who))
        throw new Error(`${at}.serviceAccount: 'namespace/name'`);
      const map = kind === 'user' ? users : serviceAccounts;
      if (map.has(who)) throw new Error(`${at}.${kind}: '${who}' is mapped twice`);
      map.set(who, credential);
    }
  });
  return { users, serviceAccounts, groups };
}

function parseHeaders(raw: unknown, at: string): Record<string, string> {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw new Error(`${at}: expected a map`);
  const out: Record<string, string> = {};
  const entries = Object.entries(raw);
  if (entries.length === 0) throw new Error(`${at}: at least one header`);
  for (const [name, value] of entries) {
    const lower = name.toLowerCase();
    if (!HEADER_NAME.test(name) || HOP_OR_PROTOCOL_HEADERS.has(lower))
      throw new Error(`${at}.${name}: not a header that can be set`);
    if (typeof value !== 'string' || value === '' || /[\r\n\0]/.test(value))
      throw new Error(`${at}.${name}: a non-empty single-line string`);
    out[lower] = value;
  }
  return out;
}

/** Pure: the caller's own credential, or undefined. */
export function credentialOf(
  map: PrincipalCredentialMap,
  principal: Principal,
): PrincipalCredential | undefined {
  if (principal.method === 'anonymous') return undefined;
  const own = map.users.get(principal.name);
  if (own !== undefined) return own;
  const sa = principal.serviceAccount;
  if (sa !== undefined) {
    const c = map.serviceAccounts.get(`${sa.namespace}/${sa.name}`);
    if (c !== undefined) return c;
  }
  for (const [group, c] of map.groups) if (principal.groups.includes(group)) return c;
  return undefined;
}

export function perPrincipalSource(file: string, onError: (err: Error) => void): CredentialSource {
  const mapping = watchSecretFile(file, parsePrincipalCredentials, onError);
  return {
    mode: 'perPrincipal',
    async credentialFor({ principal }): Promise<UpstreamCredential> {
      const c = credentialOf(mapping.current(), principal);
      if (c === undefined)
        throw new CredentialError('NO_MAPPING', `no upstream credential is mapped for ${principal.name}`);
      return c;
    },
    close: () => mapping.close(),
  };
}
