// Turns a TypeBox schema into a Kubernetes structural schema (apiextensions.k8s.io/v1 JSONSchemaProps).
// TypeBox emits JSON Schema a CRD cannot hold (const, anyOf of literals, patternProperties,
// additionalProperties: false, allOf of objects, internal `~` keys); this maps each to its CRD form and
// refuses anything it does not know, so an unsupported construct fails the generator, not the cluster.

export type JsonSchema = { [key: string]: unknown };

/** Keys copied as they are. Anything else (TypeBox internals, $id, ...) is dropped or refused. */
const PLAIN_KEYS = new Set([
  'type',
  'format',
  'description',
  'default',
  'enum',
  'pattern',
  'minimum',
  'maximum',
  'exclusiveMinimum',
  'exclusiveMaximum',
  'multipleOf',
  'minLength',
  'maxLength',
  'minItems',
  'maxItems',
  'uniqueItems',
  'minProperties',
  'maxProperties',
  'nullable',
  'example',
]);

/** Keys handled below. */
const STRUCTURE_KEYS = new Set([
  'properties',
  'required',
  'items',
  'additionalProperties',
  'patternProperties',
]);

/** Keys TypeBox or JSON Schema may carry that have no meaning in a CRD and are dropped. */
const DROPPED_KEYS = new Set(['$id', '$schema', 'title']);

export class CrdSchemaError extends Error {
  readonly code = 'CRD_SCHEMA_UNSUPPORTED';
}

const isObject = (v: unknown): v is JsonSchema => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Converts one schema node (and everything under it) into its structural CRD form. */
export function toCrdSchema(schema: JsonSchema, path = '<root>'): JsonSchema {
  if (Array.isArray(schema.allOf)) return toCrdSchema(mergeAllOf(schema, path), path);
  if (schema['x-kubernetes-int-or-string'] === true && Array.isArray(schema.anyOf)) {
    return intOrString(schema, path);
  }
  if (Array.isArray(schema.anyOf)) return toCrdSchema(literalUnionToEnum(schema, path), path);
  if ('const' in schema) {
    const { const: value, ...rest } = schema;
    return toCrdSchema({ ...rest, type: jsonType(value, path), enum: [value] }, path);
  }

  const out: JsonSchema = {};
  for (const [key, value] of Object.entries(schema)) {
    if (PLAIN_KEYS.has(key) || key.startsWith('x-kubernetes-')) out[key] = value;
    else if (!STRUCTURE_KEYS.has(key) && !DROPPED_KEYS.has(key)) {
      throw new CrdSchemaError(`${path}: '${key}' has no CRD equivalent`);
    }
  }

  if (Array.isArray(schema.enum) && out.type === undefined) {
    out.type = jsonType(schema.enum[0], path);
  }
  if (isObject(schema.properties)) {
    out.type = 'object';
    out.properties = Object.fromEntries(
      Object.entries(schema.properties).map(([name, prop]) => [
        name,
        toCrdSchema(prop as JsonSchema, `${path}.${name}`),
      ]),
    );
    // A defaulted field is filled by the API server before validation, so it is not "required" of the
    // writer (and kubectl explain should not say so).
    const props = schema.properties;
    const required = ((schema.required as string[] | undefined) ?? []).filter(
      (name) => !(isObject(props[name]) && 'default' in props[name]),
    );
    if (required.length > 0) out.required = required;
  }
  if (isObject(schema.patternProperties)) {
    // TypeBox writes Record<string, T> as patternProperties; a CRD map is additionalProperties: T.
    const values = Object.values(schema.patternProperties);
    if (values.length !== 1 || !isObject(values[0])) {
      throw new CrdSchemaError(`${path}: only string-keyed records (one pattern) are supported`);
    }
    out.type = 'object';
    out.additionalProperties = toCrdSchema(values[0], `${path}.*`);
  } else if (isObject(schema.additionalProperties)) {
    out.additionalProperties = toCrdSchema(schema.additionalProperties, `${path}.*`);
  }
  // additionalProperties: false is implied (the API server prunes and, with field validation,
  // refuses unknown fields) and forbidden next to properties.
  if (isObject(schema.items)) out.items = toCrdSchema(schema.items, `${path}[]`);

  if (out.type === undefined && !isUntyped(out)) {
    if (Object.keys(schema).every((k) => k === 'description' || k === 'default')) {
      // Type.Unknown(): any JSON value, kept as written.
      out['x-kubernetes-preserve-unknown-fields'] = true;
    } else {
      throw new CrdSchemaError(`${path}: a structural schema needs a type`);
    }
  }
  return order(out);
}

/** int-or-string and preserve-unknown-fields nodes are the only ones a structural schema leaves untyped. */
const isUntyped = (s: JsonSchema) =>
  s['x-kubernetes-int-or-string'] === true || s['x-kubernetes-preserve-unknown-fields'] === true;

function jsonType(value: unknown, path: string): string {
  switch (typeof value) {
    case 'string':
      return 'string';
    case 'boolean':
      return 'boolean';
    case 'number':
      return Number.isInteger(value) ? 'integer' : 'number';
    default:
      throw new CrdSchemaError(`${path}: unsupported literal ${JSON.stringify(value)}`);
  }
}

// int-or-string may keep the one anyOf a structural schema allows: [{type: integer}, {type: string}].
function intOrString(schema: JsonSchema, path: string): JsonSchema {
  const { anyOf, ...rest } = schema;
  const types = (anyOf as unknown[]).map((m) => (isObject(m) ? m.type : undefined));
  if (types.length !== 2 || types[0] !== 'integer' || types[1] !== 'string') {
    throw new CrdSchemaError(`${path}: int-or-string takes anyOf [{type: integer}, {type: string}] only`);
  }
  return order({ ...toCrdSchema(rest, path), anyOf: [{ type: 'integer' }, { type: 'string' }] });
}

// Type.Union of literals -> enum. Other unions have no structural form.
function literalUnionToEnum(schema: JsonSchema, path: string): JsonSchema {
  const { anyOf, ...rest } = schema;
  const members = anyOf as unknown[];
  if (!members.every((m) => isObject(m) && 'const' in m)) {
    throw new CrdSchemaError(`${path}: anyOf is supported only as a union of literals`);
  }
  const values = members.map((m) => (m as JsonSchema).const);
  const types = new Set(values.map((v) => jsonType(v, path)));
  if (types.size !== 1) throw new CrdSchemaError(`${path}: a union of literals must share one type`);
  return { ...rest, type: [...types][0], enum: values };
}

// Type.Intersect of objects -> one object with all properties and all required names.
function mergeAllOf(schema: JsonSchema, path: string): JsonSchema {
  const { allOf, ...rest } = schema;
  const merged: JsonSchema = { ...rest, type: 'object', properties: {}, required: [] };
  for (const part of allOf as unknown[]) {
    if (!isObject(part) || part.type !== 'object' || !isObject(part.properties)) {
      throw new CrdSchemaError(`${path}: allOf is supported only for objects`);
    }
    Object.assign(merged.properties as JsonSchema, part.properties);
    (merged.required as unknown[]).push(...((part.required as unknown[] | undefined) ?? []));
    for (const [key, value] of Object.entries(part)) {
      if (!['type', 'properties', 'required', 'additionalProperties'].includes(key) && !(key in merged)) {
        merged[key] = value;
      }
    }
  }
  return merged;
}

// A fixed key order keeps the generated YAML stable and readable: what it is, then its parts.
const KEY_ORDER = ['description', 'type', 'format', 'enum', 'default'];
function order(s: JsonSchema): JsonSchema {
  const keys = Object.keys(s).sort((a, b) => rank(a) - rank(b) || a.localeCompare(b));
  return Object.fromEntries(keys.map((k) => [k, s[k]]));
}
function rank(key: string): number {
  const i = KEY_ORDER.indexOf(key);
  if (i >= 0) return i;
  if (key === 'properties' || key === 'items' || key === 'additionalProperties') return 90;
  if (key.startsWith('x-kubernetes-')) return 80;
  return 50;
}
