import Type from 'typebox';

// The pinning section of the sidecar configuration. The operator renders it from McpServer
// `spec.tools.pinning` and `spec.tools.pins`; a standalone sidecar's file holds the same, and
// `portcullis pins` writes the pins from a live server.

export const PinningMode = Type.Union(
  [Type.Literal('Off'), Type.Literal('Observe'), Type.Literal('TrustOnFirstUse'), Type.Literal('Enforce')],
  {
    description:
      'Off; Observe: record and alert, never block; TrustOnFirstUse: pin the first definitions seen and ' +
      'hold any change; Enforce: only approved digests pass, a new definition stays hidden until approved.',
  },
);

export const Pin = Type.Object(
  {
    kind: Type.Union(
      [
        Type.Literal('tool'),
        Type.Literal('prompt'),
        Type.Literal('resourceTemplate'),
        Type.Literal('instructions'),
      ],
      { description: "What is pinned: a tool, a prompt, a resource template or the server's instructions." },
    ),
    name: Type.Optional(
      Type.String({ description: "Tool or prompt name, template URI; absent for 'instructions'." }),
    ),
    digest: Type.String({
      pattern: '^sha256:[0-9a-f]{64}$',
      description: 'SHA-256 of the RFC 8785 canonical form of the definition as a client sees it.',
    }),
  },
  { additionalProperties: false, description: 'One approved definition, by digest.' },
);
export type Pin = Type.Static<typeof Pin>;

export const PinningConfig = Type.Object(
  {
    mode: PinningMode,
    pins: Type.Optional(Type.Array(Pin, { description: 'Approved definitions.' })),
    refreshIntervalMs: Type.Optional(
      Type.Integer({
        minimum: 1000,
        maximum: 86_400_000,
        description: "How often the sidecar reads the server's lists itself (ms, default 60000).",
      }),
    ),
    trustStore: Type.Optional(
      Type.Object(
        {
          file: Type.Optional(
            Type.String({ minLength: 1, description: 'JSON file holding pins trusted on first use.' }),
          ),
          configMap: Type.Optional(
            Type.String({
              minLength: 1,
              description: "ConfigMap in the server's namespace holding pins trusted on first use.",
            }),
          ),
        },
        { additionalProperties: false, maxProperties: 1 },
      ),
    ),
  },
  {
    additionalProperties: false,
    description:
      'Tool-definition pinning. Absent: Off (the operator always renders it, TrustOnFirstUse by default).',
  },
);
export type PinningConfig = Type.Static<typeof PinningConfig>;

export const DEFAULT_REFRESH_MS = 60_000;
