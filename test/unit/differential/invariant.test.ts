import { describe, expect, it } from 'vitest';
import { type Json, mutate, toWire, writeJson } from '../../integration/differential/arbitraries.ts';
import {
  type AuditEvent,
  type Executed,
  unvouched,
  vouchesFor,
} from '../../integration/differential/invariant.ts';

// The differential corpus's own logic: when an audit event vouches for an execution, and the JSON
// writer and mutations of the property test.

const event = (fields: Partial<AuditEvent>): AuditEvent => ({
  seq: 1,
  outcome: 'allowed',
  method: 'tools/call',
  target: { tool: 'get-env' },
  payload: { arguments: { key: 'HOME' } },
  ...fields,
});
const getEnv = (args: Record<string, unknown>): Executed => ({
  kind: 'tool',
  name: 'get-env',
  arguments: args,
});

describe('vouchesFor', () => {
  it('an allowed event with the same name and declared arguments vouches', () => {
    expect(vouchesFor(event({}), getEnv({ key: 'HOME' }))).toBe(true);
  });

  it.each([
    ['denied', event({ outcome: 'denied' })],
    ['another method', event({ method: 'prompts/get', target: { prompt: 'get-env' } })],
    ['another tool', event({ target: { tool: 'echo' } })],
    ['another argument value', event({ payload: { arguments: { key: 'SECRET' } } })],
    ['an argument the execution lacks', event({ payload: { arguments: {} } })],
    ['no arguments at all', event({ payload: {} })],
  ])('%s does not vouch', (_name, e) => {
    expect(vouchesFor(e, getEnv({ key: 'HOME' }))).toBe(false);
  });

  it('an argument the handler never got (dropped by its SDK) does not matter; a missing one does', () => {
    expect(
      vouchesFor(event({ payload: { arguments: { key: 'HOME', KEY: 'SECRET' } } }), getEnv({ key: 'HOME' })),
    ).toBe(true);
    expect(vouchesFor(event({ payload: { arguments: { key: 'HOME' } } }), getEnv({}))).toBe(false);
  });

  it('a resource is vouched for only under the exact URI the server resolved', () => {
    const read = (uri: string) => event({ method: 'resources/read', target: { resource: uri }, payload: {} });
    const executed: Executed = { kind: 'resource', uri: 'demo://res/secret/y' };
    expect(vouchesFor(read('demo://res/secret/y'), executed)).toBe(true);
    expect(vouchesFor(read('demo://res/public/../secret/y'), executed)).toBe(false);
  });
});

describe('unvouched', () => {
  it('spends each event once', () => {
    const twice = [getEnv({ key: 'HOME' }), getEnv({ key: 'HOME' })];
    expect(unvouched(twice, [event({ seq: 1 })])).toEqual([getEnv({ key: 'HOME' })]);
    expect(unvouched(twice, [event({ seq: 1 }), event({ seq: 2 })])).toEqual([]);
  });
});

describe('the JSON writer and mutations', () => {
  const message = (): Json => ({
    kind: 'object',
    entries: [
      ['name', { kind: 'string', value: 'get-env', spelling: 'none' }],
      [
        'arguments',
        { kind: 'object', entries: [['key', { kind: 'string', value: 'HOME', spelling: 'none' }]] },
      ],
    ],
  });

  it('writes each spelling of a string', () => {
    const name = (spelling: 'none' | 'unicode-first' | 'unicode-all' | 'utf-7') =>
      writeJson({ kind: 'string', value: 'get-env', spelling });
    expect(name('none')).toBe('"get-env"');
    expect(name('unicode-first')).toBe('"\\u0067et-env"');
    expect(JSON.parse(name('unicode-all'))).toBe('get-env');
    expect(name('utf-7')).toBe('"+AGcAZQB0AC0AZQBuAHY-"'); // Python: b'+AGcAZQB0AC0AZQBuAHY-'.decode('utf-7')
  });

  it('puts the whitespace between every two tokens', () => {
    expect(writeJson(message(), ' ')).toBe('{ "name" : "get-env" , "arguments" : { "key" : "HOME" } }');
  });

  it('renames, shadows and duplicates keys in place', () => {
    const renamed = message();
    mutate(renamed, { op: 'rename', at: 2, fold: 3 }); // the third key, "key", with the Kelvin sign
    expect(writeJson(renamed)).toBe('{"name":"get-env","arguments":{"\u212aey":"HOME"}}');
    const shadowed = message();
    mutate(shadowed, { op: 'shadow', at: 2, fold: 0, before: false });
    expect(writeJson(shadowed)).toBe('{"name":"get-env","arguments":{"key":"HOME","KEY":"SECRET"}}');
    const duplicated = message();
    mutate(duplicated, { op: 'duplicate', at: 0, before: true });
    expect(writeJson(duplicated)).toBe('{"name":"get-env","name":"get-env","arguments":{"key":"HOME"}}');
  });

  it('sends UTF-16 with its byte order mark and says so', () => {
    const wire = toWire({ body: message(), mutations: [], ws: '', charset: 'utf-16' });
    expect(wire.headers['content-type']).toBe('application/json; charset=utf-16');
    expect(Buffer.from(wire.body).toString('utf16le')).toBe(`\ufeff${writeJson(message())}`);
  });
});
