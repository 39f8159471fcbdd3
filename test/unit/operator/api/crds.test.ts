import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { JsonSchema } from '../../../../operator/src/api/crd-schema.ts';
import { crdFiles, customResourceDefinitions } from '../../../../operator/src/api/crds.ts';

const crdDir = join(import.meta.dirname, '..', '..', '..', '..', 'crds');

type Version = {
  name: string;
  subresources: unknown;
  additionalPrinterColumns: { name: string }[];
  schema: { openAPIV3Schema: JsonSchema };
};
type Crd = {
  metadata: { name: string };
  spec: { names: { kind: string; shortNames: string[]; categories: string[] }; versions: Version[] };
};
const crds = customResourceDefinitions() as Crd[];
const byKind = (kind: string) => crds.find((c) => c.spec.names.kind === kind) as Crd;

/** Every schema node with its path. */
function* nodes(schema: JsonSchema, path = ''): Generator<[string, JsonSchema]> {
  yield [path, schema];
  for (const [k, v] of Object.entries((schema.properties as Record<string, JsonSchema>) ?? {})) {
    yield* nodes(v, `${path}.${k}`);
  }
  if (schema.items) yield* nodes(schema.items as JsonSchema, `${path}[]`);
  if (typeof schema.additionalProperties === 'object')
    yield* nodes(schema.additionalProperties as JsonSchema, `${path}.*`);
}

describe('generated CRDs', () => {
  it('match the checked-in YAML (run `npm run crds:generate` after changing operator/src/api)', () => {
    for (const [name, text] of crdFiles()) {
      expect(readFileSync(join(crdDir, name), 'utf8'), `crds/${name} is stale`).toBe(text);
    }
  });

  it.each(crds.map((c) => [c.metadata.name, c] as const))('%s is a structural schema', (_, crd) => {
    const forbidden = ['const', 'anyOf', 'allOf', 'oneOf', 'not', 'patternProperties', '$id', '$schema'];
    for (const [path, node] of nodes(crd.spec.versions[0]?.schema.openAPIV3Schema ?? {})) {
      for (const key of Object.keys(node)) {
        // The one anyOf a structural schema allows: an int-or-string's [{type: integer}, {type: string}].
        if (key === 'anyOf' && node['x-kubernetes-int-or-string'] === true) {
          expect(node.anyOf, path).toEqual([{ type: 'integer' }, { type: 'string' }]);
          continue;
        }
        expect(forbidden.includes(key) || key.startsWith('~'), `${path} has ${key}`).toBe(false);
      }
      expect(node.additionalProperties === false, `${path} has additionalProperties: false`).toBe(false);
      const typed =
        typeof node.type === 'string' ||
        node['x-kubernetes-int-or-string'] === true ||
        node['x-kubernetes-preserve-unknown-fields'] === true;
      expect(typed, `${path} has no type`).toBe(true);
    }
  });

  it.each(crds.map((c) => [c.metadata.name, c] as const))(
    '%s describes every field for kubectl explain',
    (_, crd) => {
      for (const [path, node] of nodes(crd.spec.versions[0]?.schema.openAPIV3Schema ?? {})) {
        if (path === '.metadata' || path.endsWith('.*') || path.endsWith('[]')) continue;
        expect(
          typeof node.description === 'string' && node.description.length > 0,
          `${path} lacks a description`,
        ).toBe(true);
      }
    },
  );

  it.each([
    { kind: 'McpServer', shortName: 'mcps', columns: ['TYPE', 'URL', 'POLICIES', 'READY', 'PHASE', 'AGE'] },
    { kind: 'McpPolicy', shortName: 'mcpp', columns: ['ACCEPTED', 'SERVERS', 'AGE'] },
  ])(
    '$kind has its names, category, status subresource and printer columns',
    ({ kind, shortName, columns }) => {
      const crd = byKind(kind);
      expect(crd.metadata.name).toMatch(/\.portcullis\.dev$/);
      expect(crd.spec.names.shortNames).toContain(shortName);
      expect(crd.spec.names.categories).toEqual(['portcullis']);
      const version = crd.spec.versions[0] as Version;
      expect(version.name).toBe('v1alpha1');
      expect(version.subresources).toEqual({ status: {} });
      expect(version.additionalPrinterColumns.map((c) => c.name)).toEqual(columns);
    },
  );

  it('makes McpPolicy rules a list map keyed by name, so the API server refuses duplicate names', () => {
    const root = byKind('McpPolicy').spec.versions[0]?.schema.openAPIV3Schema ?? {};
    const spec = (root.properties as Record<string, JsonSchema>).spec ?? {};
    const rules = spec.properties as Record<string, JsonSchema>;
    expect(rules.rules).toMatchObject({
      'x-kubernetes-list-type': 'map',
      'x-kubernetes-list-map-keys': ['name'],
    });
  });
});
