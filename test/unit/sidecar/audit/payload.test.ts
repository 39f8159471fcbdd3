import { describe, expect, it } from 'vitest';
import { compilePayloadCapture, REDACTED } from '../../../../sidecar/src/audit/payload.ts';
import type { Payloads } from '../../../../sidecar/src/contract/audit.ts';

const PEM = '-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASC\n-----END PRIVATE KEY-----';
const JWT = 'eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJhbGljZSJ9.c2lnbmF0dXJlLXNpZ25hdHVyZQ';

const cases: Array<{
  name: string;
  cfg: Payloads;
  args: unknown;
  expected: Record<string, unknown> | undefined;
}> = [
  { name: 'none captures nothing', cfg: { capture: 'none' }, args: { a: 1 }, expected: undefined },
  {
    name: 'metadata keeps names and size only',
    cfg: { capture: 'metadata' },
    args: { query: 'secret stuff', limit: 5 },
    expected: { capture: 'metadata', bytes: 34, keys: ['query', 'limit'] },
  },
  {
    name: 'metadata is the default',
    cfg: {},
    args: { q: 1 },
    expected: { capture: 'metadata', bytes: 7, keys: ['q'] },
  },
  {
    name: 'redacted replaces configured paths with wildcards',
    cfg: { capture: 'redacted', redactPaths: ['auth.*.value', 'ssn'] },
    args: { ssn: '123', auth: { a: { value: 'x', keep: 1 }, b: { value: 'y' } }, q: 'ok' },
    expected: {
      arguments: {
        ssn: REDACTED,
        auth: { a: { value: REDACTED, keep: 1 }, b: { value: REDACTED } },
        q: 'ok',
      },
      redacted: ['auth.a.value', 'auth.b.value', 'ssn'],
    },
  },
  {
    name: 'redacted detects secret keys',
    cfg: { capture: 'redacted' },
    args: { user: 'bob', password: 'hunter2', nested: { api_key: 'k', clientSecret: 'c', region: 'eu' } },
    expected: {
      arguments: {
        user: 'bob',
        password: REDACTED,
        nested: { api_key: REDACTED, clientSecret: REDACTED, region: 'eu' },
      },
    },
  },
  {
    name: 'redacted detects bearer tokens, JWTs, API keys and private keys inside strings',
    cfg: { capture: 'redacted' },
    args: {
      header: 'Authorization: Bearer abc.def-ghi_jkl',
      jwt: `token ${JWT} here`,
      keys: [
        'ghp_abcdefghijklmnopqrstuvwxyz0123456789',
        'AKIAABCDEFGHIJKLMNOP',
        'sk-proj-abcdefghijklmnopqrstuv',
      ],
      pem: PEM,
      url: 'postgres://app:s3cret@db:5432/x',
      query: 'password=letmein&user=bob',
    },
    expected: {
      arguments: {
        header: `Authorization: ${REDACTED}`,
        jwt: `token ${REDACTED} here`,
        keys: [REDACTED, REDACTED, REDACTED],
        pem: REDACTED,
        url: `postgres://app:${REDACTED}@db:5432/x`,
        query: `password=${REDACTED}&user=bob`,
      },
    },
  },
  {
    name: 'redacted leaves ordinary text alone',
    cfg: { capture: 'redacted' },
    args: { text: 'the quick brown fox', n: 3 },
    expected: { arguments: { text: 'the quick brown fox', n: 3 } },
  },
  {
    name: 'full keeps detected-looking values but honours configured paths',
    cfg: { capture: 'full', redactPaths: ['pin'] },
    args: { password: 'p', pin: '1234' },
    expected: { arguments: { password: 'p', pin: REDACTED }, redacted: ['pin'] },
  },
  {
    name: 'detectors can be switched off',
    cfg: { capture: 'redacted', detectors: false },
    args: { password: 'p' },
    expected: { arguments: { password: 'p' } },
  },
  {
    name: 'over the cap keeps a preview instead of the value',
    cfg: { capture: 'full', maxBytes: 64 },
    args: { text: 'x'.repeat(200) },
    expected: { preview: `{"text":"${'x'.repeat(55)}`, truncated: true },
  },
];

describe('payload capture', () => {
  it.each(cases)('$name', ({ cfg, args, expected }) => {
    const payload = compilePayloadCapture(cfg).capture(args);
    if (expected === undefined) expect(payload).toBeUndefined();
    else expect(payload).toMatchObject(expected);
  });

  it('never changes the caller’s arguments', () => {
    const args = { password: 'p', nested: { token: 't' }, list: ['Bearer abcdefghijk'] };
    const before = structuredClone(args);
    compilePayloadCapture({ capture: 'redacted', redactPaths: ['nested.token'] }).capture(args);
    expect(args).toEqual(before);
  });

  it('cuts the preview on a character boundary', () => {
    const payload = compilePayloadCapture({ capture: 'full', maxBytes: 64 }).capture({ t: 'é'.repeat(100) });
    expect(payload?.preview).not.toContain('\uFFFD');
    expect(Buffer.byteLength(payload?.preview ?? '')).toBeLessThanOrEqual(64);
  });
});
