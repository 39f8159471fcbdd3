import { afterEach, describe, expect, it, vi } from 'vitest';
import { parseSecretYaml } from '../../../../sidecar/src/config/secret-yaml.ts';

// The yaml parser quotes the offending source in its messages and warnings; from a Secret file that
// source is a credential, so neither may reach an error or the console.

afterEach(() => {
  vi.restoreAllMocks();
});

describe('parseSecretYaml', () => {
  it('reads YAML and JSON', () => {
    expect(parseSecretYaml('a: [1, "x"]', 'f')).toEqual({ a: [1, 'x'] });
    expect(parseSecretYaml('{"a": {"b": true}}', 'f')).toEqual({ a: { b: true } });
  });

  it.each([
    ['an unclosed flow map', 'k: v\nkey: { token: s3cr3t-value ]\n', 'line 2, column 28'],
    ['a duplicate key', 'token: s3cr3t-value\ntoken: s3cr3t-value\n', 'line 2, column 1'],
    ['a bad indentation', 'a:\n  b: s3cr3t-value\n c: s3cr3t-value\n', 'line 3'],
  ])('refuses %s by its place only', (_name, text, place) => {
    let err: Error | undefined;
    try {
      parseSecretYaml(text, '/secrets/f.yaml');
    } catch (e) {
      err = e as Error;
    }
    expect(err?.message).toMatch(new RegExp(`^/secrets/f\\.yaml: invalid YAML at ${place}`));
    expect(err?.message).not.toContain('s3cr3t');
    expect(err?.cause).toBeUndefined();
  });

  it('prints no warning quoting the source', () => {
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => {});
    const emit = vi.spyOn(process, 'emitWarning').mockImplementation(() => {});
    // An unresolved tag is a warning, not an error, to the yaml parser.
    parseSecretYaml('token: !secret s3cr3t-value\n', 'f');
    expect(warn).not.toHaveBeenCalled();
    expect(emit).not.toHaveBeenCalled();
  });
});
