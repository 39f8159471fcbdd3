import Type from 'typebox';
import { describe, expect, it } from 'vitest';
import { CrdSchemaError, type JsonSchema, toCrdSchema } from '../../../../operator/src/api/crd-schema.ts';

const convert = (schema: unknown) => toCrdSchema(schema as JsonSchema);

describe('toCrdSchema', () => {
  it.each([
    {
      name: 'a union of string literals becomes an enum',
      input: Type.Union([Type.Literal('a'), Type.Literal('b')], { description: 'd' }),
      output: { description: 'd', type: 'string', enum: ['a', 'b'] },
    },
    {
      name: 'Type.Enum gets the type of its values',
      input: Type.Enum(['x', 'y']),
      output: { type: 'string', enum: ['x', 'y'] },
    },
    {
      name: 'a literal becomes a one-value enum',
      input: Type.Literal(3),
      output: { type: 'integer', enum: [3] },
    },
    {
      name: 'a string record becomes additionalProperties',
      input: Type.Record(Type.String(), Type.Integer()),
      output: { type: 'object', additionalProperties: { type: 'integer' } },
    },
    {
      name: 'Type.Unknown keeps unknown fields',
      input: Type.Unknown({ description: 'any' }),
      output: { description: 'any', 'x-kubernetes-preserve-unknown-fields': true },
    },
    {
      name: 'additionalProperties: false is dropped and defaulted fields are not required',
      input: Type.Object(
        { a: Type.String(), b: Type.Integer({ default: 1 }), c: Type.Optional(Type.Boolean()) },
        { additionalProperties: false },
      ),
      output: {
        type: 'object',
        required: ['a'],
        properties: { a: { type: 'string' }, b: { type: 'integer', default: 1 }, c: { type: 'boolean' } },
      },
    },
    {
      name: 'an intersection of objects is merged',
      input: Type.Intersect([Type.Object({ a: Type.String() }), Type.Object({ b: Type.String() })]),
      output: {
        type: 'object',
        required: ['a', 'b'],
        properties: { a: { type: 'string' }, b: { type: 'string' } },
      },
    },
    {
      name: 'x-kubernetes extensions pass through',
      input: Type.Array(Type.String(), { 'x-kubernetes-list-type': 'set' }),
      output: { type: 'array', 'x-kubernetes-list-type': 'set', items: { type: 'string' } },
    },
  ])('$name', ({ input, output }) => {
    expect(convert(input)).toEqual(output);
  });

  it.each([
    { name: 'a union of objects', input: Type.Union([Type.Object({ a: Type.String() }), Type.String()]) },
    { name: 'a union of mixed literal types', input: Type.Union([Type.Literal('a'), Type.Literal(1)]) },
    { name: 'an unknown keyword', input: { type: 'string', contentEncoding: 'base64' } },
  ])('refuses $name', ({ input }) => {
    expect(() => convert(input)).toThrow(CrdSchemaError);
  });
});
