import { describe, expect, it } from 'vitest';
import { decodeMcpHeaderValue, encodeMcpHeaderValue } from '../../../../sidecar/src/transport/headers.ts';
import type { ClientMessage } from '../../../../sidecar/src/transport/jsonrpc.ts';
import {
  createParamHeaderCatalog,
  paramDeclarations,
  paramHeaders,
} from '../../../../sidecar/src/transport/param-headers.ts';

// Mcp-Param-* headers are derived from the decided arguments with the tool's own declarations.

const schema = {
  type: 'object',
  properties: {
    region: { type: 'string', 'x-mcp-header': 'Region' },
    dryRun: { type: 'boolean', 'x-mcp-header': 'Dry-Run' },
    target: { type: 'object', properties: { tenant: { type: 'integer', 'x-mcp-header': 'Tenant' } } },
    note: { type: 'string' },
  },
};

describe('paramDeclarations', () => {
  it('finds declarations along properties chains', () => {
    expect(paramDeclarations(schema)).toEqual([
      { path: ['region'], header: 'mcp-param-region' },
      { path: ['dryRun'], header: 'mcp-param-dry-run' },
      { path: ['target', 'tenant'], header: 'mcp-param-tenant' },
    ]);
  });
  it.each([
    ['a name that is not a token', { properties: { a: { type: 'string', 'x-mcp-header': 'a b' } } }],
    ['an object-typed property', { properties: { a: { type: 'object', 'x-mcp-header': 'A' } } }],
    [
      'two names equal but for case',
      {
        properties: {
          a: { type: 'string', 'x-mcp-header': 'A' },
          b: { type: 'string', 'x-mcp-header': 'a' },
        },
      },
    ],
    ['the root itself', { type: 'string', 'x-mcp-header': 'A' }],
  ])('refuses %s', (_name, s) => {
    expect(paramDeclarations(s)).toBeUndefined();
  });
});

describe('paramHeaders', () => {
  const declarations = paramDeclarations(schema) ?? [];
  it('converts primitives and encodes what is not plain ASCII', () => {
    expect(paramHeaders(declarations, { region: 'Zürich', dryRun: false, target: { tenant: 42 } })).toEqual({
      'mcp-param-region': encodeMcpHeaderValue('Zürich'),
      'mcp-param-dry-run': 'false',
      'mcp-param-tenant': '42',
    });
  });
  it('omits null, absent, non-primitive and inexact values', () => {
    expect(paramHeaders(declarations, { region: null, dryRun: {}, target: { tenant: 2 ** 60 } })).toEqual({});
    expect(paramHeaders(declarations, undefined)).toEqual({});
  });
});

describe('encodeMcpHeaderValue', () => {
  it.each(['eu-west-1', 'a\tb'])('passes plain %j as it is', (v) => {
    expect(encodeMcpHeaderValue(v)).toBe(v);
  });
  it.each(['Zürich', ' padded', '', '=?base64?abc?=', 'line\nbreak'])('encodes %j and decodes back', (v) => {
    const encoded = encodeMcpHeaderValue(v);
    expect(encoded).toMatch(/^=\?base64\?.*\?=$/);
    expect(decodeMcpHeaderValue(encoded)).toBe(v);
  });
});

describe('createParamHeaderCatalog', () => {
  const call = (name: string, args: unknown): ClientMessage => ({
    kind: 'request',
    id: 1,
    method: 'tools/call',
    params: { name, arguments: args },
  });

  it('derives nothing for a tool it has not seen listed, then the decided values once it has', () => {
    const catalog = createParamHeaderCatalog();
    expect(catalog.derive(call('deploy', { region: 'eu' }))).toEqual({});
    catalog.learn({
      tools: [
        { name: 'deploy', inputSchema: schema },
        { name: 'plain', inputSchema: {} },
      ],
    });
    expect(catalog.derive(call('deploy', { region: 'eu' }))).toEqual({ 'mcp-param-region': 'eu' });
    expect(catalog.derive(call('plain', { region: 'eu' }))).toEqual({});
    expect(catalog.derive(undefined)).toEqual({});
    expect(
      catalog.derive({ kind: 'request', id: 2, method: 'prompts/get', params: { name: 'deploy' } }),
    ).toEqual({});
  });

  it('forgets declarations a tool no longer has, and stays within its bound', () => {
    const catalog = createParamHeaderCatalog(2);
    catalog.learn({ tools: [{ name: 'deploy', inputSchema: schema }] });
    catalog.learn({ tools: [{ name: 'deploy', inputSchema: {} }] });
    expect(catalog.derive(call('deploy', { region: 'eu' }))).toEqual({});
    catalog.learn({ tools: ['a', 'b', 'c'].map((name) => ({ name, inputSchema: schema })) });
    expect(catalog.derive(call('a', { region: 'eu' }))).toEqual({});
    expect(catalog.derive(call('c', { region: 'eu' }))).toEqual({ 'mcp-param-region': 'eu' });
  });
});
