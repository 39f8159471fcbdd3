import Type from 'typebox';

// McpServer status.tools: what the server's sidecars observe of its definitions (tools, prompts,
// resource templates, instructions), merged over the pods' reports in the `<server>-pins` ConfigMap.
// Bounded (held definitions first, diffs cut), so a server with thousands of tools or huge schemas
// cannot make the McpServer too big to store; `kubectl portcullis tools` reads the same reports.

const DIGEST = { pattern: '^sha256:[0-9a-f]{64}$', maxLength: 71 };
const short = (description: string, maxLength = 512) => Type.String({ maxLength, description });

export const MAX_STATUS_DEFINITIONS = 64;
export const MAX_STATUS_CHANGES = 8;
export const MAX_STATUS_TEXT = 256;

export const DefinitionChangeStatus = Type.Object(
  {
    path: short('JSON pointer of the member inside the definition.'),
    change: Type.Enum(['added', 'removed', 'changed'], { description: 'What happened to the member.' }),
    before: Type.Optional(short('The value before, as JSON (cut).', MAX_STATUS_TEXT + 1)),
    after: Type.Optional(short('The value now, as JSON (cut).', MAX_STATUS_TEXT + 1)),
  },
  { description: 'One change of the diff.' },
);

export const ObservedDefinition = Type.Object(
  {
    kind: Type.Enum(['tool', 'prompt', 'resourceTemplate', 'instructions'], {
      description: 'What the definition is.',
    }),
    name: short("Tool or prompt name, template URI; '' for the server's instructions.", 1024),
    digest: Type.String({ ...DIGEST, description: 'What the server shows now.' }),
    state: Type.Enum(['pinned', 'held', 'observed'], {
      description:
        'pinned: matches its pin; held: hidden and refused; observed: drift recorded but not held (Observe).',
    }),
    reason: Type.Optional(
      Type.Enum(['changed', 'unapproved', 'suspicious'], {
        description:
          'Why it is held or drifted: changed since pinned, not approved (Enforce), hidden Unicode.',
      }),
    ),
    pinned: Type.Optional(Type.String({ ...DIGEST, description: 'The digest it was pinned at.' })),
    firstSeen: Type.String({ maxLength: 64, description: 'When this digest was first seen.' }),
    lastSeen: Type.String({ maxLength: 64, description: 'When a sidecar last saw it.' }),
    changes: Type.Optional(
      Type.Array(DefinitionChangeStatus, {
        maxItems: MAX_STATUS_CHANGES,
        description:
          'The diff against the pinned definition (`kubectl portcullis tools diff` has all of it).',
      }),
    ),
    suspicious: Type.Optional(
      Type.Array(short('Invisible or bidirectional Unicode: path, class and first code point.'), {
        maxItems: 8,
        description: 'Where the definition hides text from a reviewer.',
      }),
    ),
  },
  { description: 'One definition as the sidecars see it.' },
);

export const ToolsStatus = Type.Object(
  {
    mode: Type.Optional(
      Type.Enum(['Off', 'Observe', 'TrustOnFirstUse', 'Enforce'], {
        description: 'The mode the sidecars report.',
      }),
    ),
    pinned: Type.Integer({ minimum: 0, description: 'Definitions that match their pins.' }),
    held: Type.Integer({ minimum: 0, description: 'Definitions hidden from lists and refused.' }),
    reporters: Type.Integer({ minimum: 0, description: 'Sidecars whose reports were read.' }),
    reportedAt: Type.Optional(Type.String({ maxLength: 64, description: 'The newest report.' })),
    definitions: Type.Array(ObservedDefinition, {
      maxItems: MAX_STATUS_DEFINITIONS,
      description: 'Held and drifted definitions first, then pinned ones, up to the bound.',
    }),
    omitted: Type.Optional(Type.Integer({ minimum: 0, description: 'Definitions left out by the bound.' })),
  },
  { description: 'What the sidecars observe of the server definitions (docs/pinning.md).' },
);
export type ToolsStatus = Type.Static<typeof ToolsStatus>;
export type ObservedDefinition = Type.Static<typeof ObservedDefinition>;
