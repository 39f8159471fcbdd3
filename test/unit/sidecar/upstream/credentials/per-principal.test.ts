import { describe, expect, it } from 'vitest';
import type { Principal } from '../../../../../sidecar/src/contract/principal.ts';
import { ANONYMOUS_PRINCIPAL } from '../../../../../sidecar/src/contract/principal.ts';
import {
  credentialOf,
  parsePrincipalCredentials,
} from '../../../../../sidecar/src/upstream/credentials/index.ts';

const FILE = `
credentials:
  - id: alice-prefect
    user: alice@example.com
    headers: { X-Prefect-Api-Key: pnu_alice }
  - id: release-bot
    serviceAccount: ci/release-bot
    headers: { X-Prefect-Api-Key: pnu_bot }
  - id: engineering-shared
    group: engineering
    headers: { X-Prefect-Api-Key: pnu_eng }
  - id: sales
    group: sales
    headers: { X-Prefect-Api-Key: pnu_sales }
`;

const principal = (p: Partial<Principal>): Principal => ({
  subject: 'x',
  name: 'x',
  groups: [],
  method: 'oidc',
  scopes: [],
  claims: {},
  ...p,
});

describe('credentialOf', () => {
  const map = parsePrincipalCredentials(FILE, 'm.yaml');
  it.each([
    [
      'own user entry wins over a group',
      principal({ name: 'alice@example.com', groups: ['engineering'] }),
      'alice-prefect',
    ],
    [
      'a service account by namespace/name',
      principal({
        name: 'system:serviceaccount:ci:release-bot',
        serviceAccount: { namespace: 'ci', name: 'release-bot' },
        groups: ['engineering'],
      }),
      'release-bot',
    ],
    [
      'the first group in file order',
      principal({ name: 'carol', groups: ['sales', 'engineering'] }),
      'engineering-shared',
    ],
    ['no mapping: none, no fallback', principal({ name: 'mallory', groups: ['contractors'] }), undefined],
    [
      'anonymous never matches, whatever its groups',
      { ...ANONYMOUS_PRINCIPAL, groups: ['engineering'] },
      undefined,
    ],
    ['user names are exact (no case folding)', principal({ name: 'Alice@example.com' }), undefined],
  ])('%s', (_name, p, id) => {
    expect(credentialOf(map, p)?.id).toBe(id);
  });

  it('header names are lower-cased; values kept', () => {
    expect(credentialOf(map, principal({ name: 'alice@example.com' }))?.headers).toEqual({
      'x-prefect-api-key': 'pnu_alice',
    });
  });
});

describe('parsePrincipalCredentials refuses', () => {
  it.each([
    ['not a list', 'credentials: {}', /expected \{credentials/],
    ['two kinds', 'credentials: [{id: a, user: u, group: g, headers: {X-K: v}}]', /exactly one of/],
    ['no kind', 'credentials: [{id: a, headers: {X-K: v}}]', /exactly one of/],
    [
      'a duplicate id',
      'credentials: [{id: a, user: u, headers: {X-K: v}}, {id: a, user: w, headers: {X-K: v}}]',
      /twice/,
    ],
    [
      'a user mapped twice',
      'credentials: [{id: a, user: u, headers: {X-K: v}}, {id: b, user: u, headers: {X-K: v}}]',
      /mapped twice/,
    ],
    [
      'a framing header',
      'credentials: [{id: a, user: u, headers: {Host: evil}}]',
      /not a header that can be set/,
    ],
    ['a session header', 'credentials: [{id: a, user: u, headers: {Mcp-Session-Id: s}}]', /not a header/],
    [
      'a header value with a line break',
      'credentials: [{id: a, user: u, headers: {X-K: "v\\r\\nX-Evil: 1"}}]',
      /single-line/,
    ],
    ['no headers', 'credentials: [{id: a, user: u, headers: {}}]', /at least one header/],
    [
      'a bad service account',
      'credentials: [{id: a, serviceAccount: bot, headers: {X-K: v}}]',
      /namespace\/name/,
    ],
    [
      'an unknown field',
      'credentials: [{id: a, user: u, headers: {X-K: v}, fallback: true}]',
      /unknown field/,
    ],
  ])('%s', (_name, text, message) => {
    expect(() => parsePrincipalCredentials(text, 'm.yaml')).toThrow(message);
  });
});
