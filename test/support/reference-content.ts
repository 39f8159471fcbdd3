// What the conformance reference server returns, as each server scenario of the suite describes it:
// tool definitions, a tiny PNG and WAV, and the elicitation schemas of SEP-1034 and SEP-1330.

export const PNG =
  'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8DwHwAFBQIAX8jx0gAAAABJRU5ErkJggg==';

/** A valid, silent 8 kHz mono 16-bit WAV of 8 samples. */
export function wav(): string {
  const data = 16;
  const b = Buffer.alloc(44 + data);
  b.write('RIFF', 0);
  b.writeUInt32LE(36 + data, 4);
  b.write('WAVEfmt ', 8);
  b.writeUInt32LE(16, 16);
  b.writeUInt16LE(1, 20);
  b.writeUInt16LE(1, 22);
  b.writeUInt32LE(8000, 24);
  b.writeUInt32LE(16000, 28);
  b.writeUInt16LE(2, 32);
  b.writeUInt16LE(16, 34);
  b.write('data', 36);
  b.writeUInt32LE(data, 40);
  return b.toString('base64');
}

const noArgs = { type: 'object', properties: {} } as const;
const stringArg = (name: string, description: string) =>
  ({ type: 'object', properties: { [name]: { type: 'string', description } }, required: [name] }) as const;

export const TOOLS = [
  ['test_simple_text', 'Returns simple text', noArgs],
  ['test_image_content', 'Returns an image', noArgs],
  ['test_audio_content', 'Returns audio', noArgs],
  ['test_embedded_resource', 'Returns an embedded resource', noArgs],
  ['test_multiple_content_types', 'Returns text, image and resource', noArgs],
  ['test_tool_with_logging', 'Logs three messages while it runs', noArgs],
  ['test_tool_with_progress', 'Reports progress three times', noArgs],
  ['test_error_handling', 'Always fails', noArgs],
  ['test_sampling', 'Asks the client to sample', stringArg('prompt', 'The prompt to send')],
  ['test_elicitation', 'Asks the user for input', stringArg('message', 'The message to show')],
  ['test_elicitation_sep1034_defaults', 'Elicitation with defaults', noArgs],
  ['test_elicitation_sep1330_enums', 'Elicitation with every enum form', noArgs],
  ['test_reconnection', 'Closes its SSE stream before answering', noArgs],
  [
    'json_schema_2020_12_tool',
    'Tool with JSON Schema 2020-12 features',
    {
      $schema: 'https://json-schema.org/draft/2020-12/schema',
      type: 'object',
      $defs: {
        address: { type: 'object', properties: { street: { type: 'string' }, city: { type: 'string' } } },
      },
      properties: { name: { type: 'string' }, address: { $ref: '#/$defs/address' } },
      additionalProperties: false,
    },
  ],
] as const;

export const SEP1034_SCHEMA = {
  type: 'object' as const,
  properties: {
    name: { type: 'string' as const, default: 'John Doe' },
    age: { type: 'integer' as const, default: 30 },
    score: { type: 'number' as const, default: 95.5 },
    status: { type: 'string' as const, enum: ['active', 'inactive', 'pending'], default: 'active' },
    verified: { type: 'boolean' as const, default: true },
  },
};

export const SEP1330_SCHEMA = {
  type: 'object' as const,
  properties: {
    untitledSingle: { type: 'string', enum: ['option1', 'option2', 'option3'] },
    titledSingle: {
      type: 'string',
      oneOf: [
        { const: 'value1', title: 'First Option' },
        { const: 'value2', title: 'Second Option' },
      ],
    },
    legacyEnum: {
      type: 'string',
      enum: ['opt1', 'opt2', 'opt3'],
      enumNames: ['Option One', 'Option Two', 'Option Three'],
    },
    untitledMulti: { type: 'array', items: { type: 'string', enum: ['option1', 'option2', 'option3'] } },
    titledMulti: {
      type: 'array',
      items: {
        anyOf: [
          { const: 'value1', title: 'First Choice' },
          { const: 'value2', title: 'Second Choice' },
        ],
      },
    },
  },
};
