import Type from 'typebox';

// The policy test file: test cases written next to the policies they test, run offline by
// `kubectl portcullis policy test`. One file names the policy files, the servers the cases call
// and the cases: who calls what, and which decision (and deciding rule) is expected.

export const POLICY_TEST_KIND = 'McpPolicyTest';

const Labels = Type.Record(Type.String(), Type.String());

export const TestServer = Type.Object(
  {
    name: Type.String({ minLength: 1 }),
    namespace: Type.String({ minLength: 1 }),
    labels: Type.Optional(Labels),
    toolsAllow: Type.Optional(
      Type.Array(Type.String({ minLength: 1 }), { description: "The server's spec.tools.allow." }),
    ),
  },
  { additionalProperties: false },
);
export type TestServer = Type.Static<typeof TestServer>;

export const TestPrincipal = Type.Object(
  {
    user: Type.String({
      minLength: 1,
      description: "Username; 'system:serviceaccount:NS:NAME' for a ServiceAccount.",
    }),
    groups: Type.Optional(Type.Array(Type.String())),
    apiKey: Type.Optional(Type.String({ minLength: 1, description: 'The caller uses this API key (id).' })),
    claims: Type.Optional(Type.Record(Type.String(), Type.Unknown())),
    issuer: Type.Optional(Type.String()),
  },
  { additionalProperties: false },
);

export const TestCase = Type.Object(
  {
    name: Type.String({ minLength: 1 }),
    server: Type.Optional(
      Type.String({ minLength: 1, description: "'namespace/name' or 'name'; optional with one server." }),
    ),
    principal: TestPrincipal,
    method: Type.Optional(Type.String({ minLength: 1 })),
    tool: Type.Optional(Type.String({ minLength: 1 })),
    resource: Type.Optional(Type.String({ minLength: 1 })),
    prompt: Type.Optional(Type.String({ minLength: 1 })),
    arguments: Type.Optional(Type.Record(Type.String(), Type.Unknown())),
    expect: Type.Object(
      {
        decision: Type.Union([Type.Literal('allow'), Type.Literal('deny')]),
        rule: Type.Optional(
          Type.Union([Type.String({ minLength: 1 }), Type.Null()], {
            description: 'The deciding rule by name; null: no rule decides (default deny).',
          }),
        ),
        policy: Type.Optional(Type.String({ minLength: 1, description: "The deciding rule's policy." })),
      },
      { additionalProperties: false },
    ),
  },
  { additionalProperties: false },
);
export type TestCase = Type.Static<typeof TestCase>;

export const PolicyTestFile = Type.Object(
  {
    apiVersion: Type.Literal('portcullis.dev/v1alpha1'),
    kind: Type.Literal(POLICY_TEST_KIND),
    policies: Type.Array(Type.String({ minLength: 1 }), {
      minItems: 1,
      description:
        'YAML files, relative to this one, holding the policies (and optionally McpServer objects) under test.',
    }),
    servers: Type.Optional(Type.Array(TestServer)),
    cases: Type.Array(TestCase, { minItems: 1 }),
  },
  { additionalProperties: false },
);
export type PolicyTestFile = Type.Static<typeof PolicyTestFile>;
