import Type from 'typebox';

// The rule format is shared by the sidecar's configuration and the McpPolicy CRD (the operator
// imports these schemas), so a rule means the same thing wherever it is written.

const name = (description: string) =>
  Type.String({ minLength: 1, maxLength: 253, pattern: '^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$', description });

const patterns = (what: string) =>
  Type.Array(Type.String({ minLength: 1, maxLength: 512 }), {
    maxItems: 256,
    description: `${what} this rule covers. Glob patterns: '*' matches any run of characters, '?' one character. Omitted or empty: none.`,
  });

export const Subject = Type.Object(
  {
    user: Type.Optional(
      Type.String({ minLength: 1, description: "A user: the token's username claim (email or sub)." }),
    ),
    group: Type.Optional(
      Type.String({ minLength: 1, description: "A group from the token's groups claim." }),
    ),
    serviceAccount: Type.Optional(
      Type.String({
        pattern: '^[a-z0-9]([-a-z0-9]*[a-z0-9])?/([a-z0-9]([-a-z0-9.]*[a-z0-9])?|\\*)$',
        description:
          "A Kubernetes ServiceAccount as 'namespace/name' ('namespace/*' for all in a namespace).",
      }),
    ),
    claim: Type.Optional(
      Type.Object(
        {
          name: Type.String({ minLength: 1, description: 'Claim name in the token.' }),
          value: Type.String({ description: 'Required value; for an array claim, one of its elements.' }),
        },
        { additionalProperties: false, description: 'A token claim with a given value.' },
      ),
    ),
    apiKey: Type.Optional(Type.String({ minLength: 1, description: 'An API key, by its id.' })),
    anyAuthenticated: Type.Optional(Type.Boolean({ description: 'Every authenticated caller.' })),
  },
  {
    additionalProperties: false,
    minProperties: 1,
    maxProperties: 1,
    description:
      'Who a rule applies to: exactly one of user, group, serviceAccount, claim, apiKey, anyAuthenticated.',
  },
);
export type Subject = Type.Static<typeof Subject>;

export const PolicyRule = Type.Object(
  {
    name: name('Rule name, unique within its policy; audit events and denials name it.'),
    action: Type.Union([Type.Literal('allow'), Type.Literal('deny')], {
      description: 'allow or deny. A matching deny always wins; a request no rule allows is denied.',
    }),
    subjects: Type.Array(Subject, {
      minItems: 1,
      maxItems: 256,
      description: 'Callers the rule applies to (any of).',
    }),
    tools: Type.Optional(patterns('Tool names')),
    resources: Type.Optional(patterns('Resource URIs (and URI templates)')),
    prompts: Type.Optional(patterns('Prompt names')),
    when: Type.Optional(
      Type.String({
        minLength: 1,
        maxLength: 4096,
        description:
          'Optional CEL condition; the rule matches only when it is true. Variables: principal (subject, groups, claims, ...), arguments, server, method, tool, resource, prompt.',
      }),
    ),
  },
  { additionalProperties: false },
);
export type PolicyRule = Type.Static<typeof PolicyRule>;
