import { Compile } from 'typebox/compile';
import { describe, expect, it } from 'vitest';
import { createSinks } from '../../../../sidecar/src/audit/sinks/index.ts';
import { AuditConfig } from '../../../../sidecar/src/contract/audit.ts';

const check = Compile(AuditConfig);

describe('audit configuration schema', () => {
  it.each([
    { name: 'empty (all defaults)', cfg: {}, valid: true },
    {
      name: 'every sink kind',
      cfg: {
        failureMode: 'closed',
        payloads: { capture: 'redacted', maxBytes: 8192, redactPaths: ['a.*.b'] },
        sinks: [
          { type: 'stdout', format: 'ocsf' },
          { type: 'file', path: '/var/log/a.ndjson', maxBytes: 1048576, maxFiles: 3 },
          { type: 'otlp', endpoint: 'http://collector:4318/v1/logs', headers: { 'x-token': { env: 'T' } } },
          { type: 'syslog', host: 'rsyslog', port: 6514, transport: 'tls', caFile: '/ca.pem' },
          { type: 'http', url: 'https://splunk:8088/services/collector/event', token: { file: '/t' } },
        ],
      },
      valid: true,
    },
    { name: 'an unknown sink type', cfg: { sinks: [{ type: 'kafka' }] }, valid: false },
    { name: 'an unknown capture level', cfg: { payloads: { capture: 'everything' } }, valid: false },
    { name: 'an empty path segment', cfg: { payloads: { redactPaths: ['a..b'] } }, valid: false },
    {
      name: 'a secret with both sources',
      cfg: { sinks: [{ type: 'http', url: 'http://x', token: { env: 'A', file: '/b' } }] },
      valid: false,
    },
    { name: 'a misspelt field', cfg: { failuremode: 'closed' }, valid: false },
  ])('$name', ({ cfg, valid }) => {
    expect(check.Check(cfg)).toBe(valid);
  });
});

describe('building sinks', () => {
  it.each([
    {
      name: 'a missing token variable names the sink',
      sinks: [{ type: 'http' as const, url: 'http://x', token: { env: 'NOPE' } }],
      error: /audit\.sinks\[0\]\.token: environment variable NOPE is not set/,
    },
    {
      name: 'an unreadable token file names the sink',
      sinks: [{ type: 'http' as const, url: 'http://x', token: { file: '/nonexistent/token' } }],
      error: /audit\.sinks\[0\]\.token: cannot read/,
    },
    {
      name: 'two sinks with one name',
      sinks: [
        { type: 'stdout' as const, name: 'a' },
        { type: 'file' as const, name: 'a', path: '/tmp/x' },
      ],
      error: /duplicate sink name a/,
    },
  ])('refuses $name', ({ sinks, error }) => {
    expect(() => createSinks(sinks, { instance: 'i', env: {} })).toThrow(error);
  });

  it('names sinks after their type, numbering repeats', () => {
    const sinks = createSinks(
      [{ type: 'http', url: 'http://a' }, { type: 'http', url: 'http://b' }, { type: 'stdout' }],
      { instance: 'i', env: {}, stdout: { write: () => true, once: () => undefined } },
    );
    expect(sinks.map((s) => s.name)).toEqual(['http-0', 'http-1', 'stdout']);
  });
});
