import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { parseApiKeyFile } from '../../../../sidecar/src/authn/api-key-file.ts';
import { compileApiKeys, hashApiKey } from '../../../../sidecar/src/authn/api-keys.ts';

const entry = (id: string, key: string, groups?: string[]) => ({
  id,
  sha256: hashApiKey(key),
  subject: `svc-${id}`,
  groups,
});

describe('hashApiKey', () => {
  it('is the lowercase hex SHA-256 of the UTF-8 key', () => {
    expect(hashApiKey('s3cret')).toBe(createHash('sha256').update('s3cret').digest('hex'));
    expect(hashApiKey('abc')).toBe('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
  });
});

describe('compileApiKeys', () => {
  const table = compileApiKeys([entry('one', 'key-one', ['reporting']), entry('two', 'key-two')]);

  it.each([
    { presented: 'key-one', id: 'one' },
    { presented: 'key-two', id: 'two' },
    { presented: 'key-three', id: undefined },
    { presented: '', id: undefined },
    { presented: hashApiKey('key-one'), id: undefined },
    { presented: 'KEY-ONE', id: undefined },
  ])('$presented -> $id', ({ presented, id }) => {
    expect(table.find(presented)?.apiKeyId).toBe(id);
  });

  it('returns the principal of the matching key', () => {
    expect(table.find('key-one')).toEqual({
      subject: 'svc-one',
      name: 'svc-one',
      groups: ['reporting'],
      method: 'api-key',
      apiKeyId: 'one',
      scopes: [],
      claims: {},
    });
  });

  it('refuses a digest that is not 64 lowercase hex digits', () => {
    expect(() => compileApiKeys([{ id: 'bad', sha256: 'ABC', subject: 's' }])).toThrow(/bad/);
  });
});

describe('parseApiKeyFile', () => {
  it.each([
    { name: 'YAML list', text: `- id: a\n  sha256: ${hashApiKey('k')}\n  subject: svc-a\n` },
    {
      name: 'JSON object with apiKeys',
      text: JSON.stringify({ apiKeys: [{ id: 'a', sha256: hashApiKey('k'), subject: 'svc-a' }] }),
    },
  ])('reads a $name', ({ text }) => {
    expect(parseApiKeyFile(text, 'keys.yaml')).toEqual([
      { id: 'a', sha256: hashApiKey('k'), subject: 'svc-a', groups: [] },
    ]);
  });

  it.each([
    { name: 'not a list', text: 'a: 1', error: /expected a list/ },
    { name: 'bad digest', text: '- {id: a, sha256: xyz, subject: s}', error: /keys.yaml\[0\]\.sha256/ },
    { name: 'missing subject', text: `- {id: a, sha256: ${hashApiKey('k')}}`, error: /\[0\]\.subject/ },
    {
      name: 'unknown field',
      text: `- {id: a, sha256: ${hashApiKey('k')}, subject: s, key: plain}`,
      error: /\[0\]\.key: unknown/,
    },
  ])('refuses $name with the path of the fault', ({ text, error }) => {
    expect(() => parseApiKeyFile(text, 'keys.yaml')).toThrow(error);
  });
});
