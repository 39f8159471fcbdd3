import { evaluate } from '@marcbachmann/cel-js';
import { Compile } from 'typebox/compile';
import type { JsonSchema } from '../../../../operator/src/api/crd-schema.ts';
import { customResourceDefinitions } from '../../../../operator/src/api/crds.ts';

// Checks an object the way the API server would against the generated CRD: defaults, the OpenAPI
// schema, unknown fields (kubectl's strict field validation) and the CEL x-kubernetes-validations
// rules, evaluated with cel-js. A test stand-in for the API server, which the kube tests use for real.

type Crd = { spec: { names: { kind: string }; versions: { schema: { openAPIV3Schema: JsonSchema } }[] } };

export function crdSchema(kind: string): JsonSchema {
  const crd = (customResourceDefinitions() as Crd[]).find((c) => c.spec.names.kind === kind);
  const schema = crd?.spec.versions[0]?.schema.openAPIV3Schema;
  if (!schema) throw new Error(`no CRD for ${kind}`);
  return schema;
}

const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

function walk(schema: JsonSchema, value: unknown, path: string, errors: string[]): void {
  for (const v of (schema['x-kubernetes-validations'] as { rule: string; message?: string }[] | undefined) ??
    []) {
    let result: unknown;
    try {
      result = evaluate(v.rule, { self: value });
    } catch (err) {
      result = `error: ${(err as Error).message}`;
    }
    if (result !== true) errors.push(`${path || '<root>'}: ${v.message ?? v.rule} (${String(result)})`);
  }
  if (schema['x-kubernetes-preserve-unknown-fields'] === true) return;
  if (isObject(value)) {
    const props = schema.properties as Record<string, JsonSchema> | undefined;
    const extra = schema.additionalProperties as JsonSchema | undefined;
    for (const [k, child] of Object.entries(value)) {
      if (path === '' && (k === 'metadata' || k === 'apiVersion' || k === 'kind')) continue;
      const childSchema = props?.[k] ?? extra;
      if (!childSchema) errors.push(`${path}.${k}: unknown field`);
      else walk(childSchema, child, `${path}.${k}`, errors);
    }
  } else if (Array.isArray(value) && isObject(schema.items)) {
    for (const [i, item] of value.entries()) walk(schema.items, item, `${path}[${i}]`, errors);
  }
}

/** Structural defaulting as the API server does it: a missing field with a default gets it. */
function applyDefaults(schema: JsonSchema, value: unknown): void {
  if (isObject(value)) {
    const props = (schema.properties as Record<string, JsonSchema> | undefined) ?? {};
    for (const [k, child] of Object.entries(props)) {
      if (value[k] === undefined && 'default' in child) value[k] = structuredClone(child.default);
      if (value[k] !== undefined) applyDefaults(child, value[k]);
    }
    const extra = schema.additionalProperties;
    if (isObject(extra))
      for (const [k, v] of Object.entries(value)) if (!(k in props)) applyDefaults(extra, v);
  } else if (Array.isArray(value) && isObject(schema.items)) {
    for (const item of value) applyDefaults(schema.items, item);
  }
}

/** Errors the API server would report for `object` (empty when it would accept it), and the defaulted object. */
export function admit(kind: string, object: unknown): { errors: string[]; value: unknown } {
  const schema = crdSchema(kind);
  const value = structuredClone(object);
  applyDefaults(schema, value);
  const compiled = Compile(schema);
  const errors = [...compiled.Errors(value)].map((e) => `${e.instancePath || '<root>'}: ${e.message}`);
  walk(schema, value, '', errors);
  return { errors, value };
}
