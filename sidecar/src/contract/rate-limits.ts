import Type from 'typebox';

// Rate limits on tool calls: token buckets in each sidecar (per pod; see docs/policy.md, rate
// limits). A limit counts tools/call messages the rules allowed, per principal, per principal and
// tool, per tool, or for the whole server; a call over any limit is refused before it reaches the
// server, with the time until it would pass.

export const RateLimit = Type.Object(
  {
    name: Type.String({
      minLength: 1,
      maxLength: 63,
      pattern: '^[a-z0-9]([-a-z0-9]*[a-z0-9])?$',
      description: 'Name of the limit; refusals, audit events and metrics name it.',
    }),
    per: Type.Union(
      [
        Type.Literal('principal'),
        Type.Literal('principal-tool'),
        Type.Literal('tool'),
        Type.Literal('server'),
      ],
      {
        description:
          'What one bucket counts: each caller (principal), each caller and tool (principal-tool), each tool for all callers (tool), or every call (server).',
      },
    ),
    tools: Type.Optional(
      Type.Array(Type.String({ minLength: 1, maxLength: 512 }), {
        maxItems: 256,
        description: "Tools the limit covers (globs: '*' any run, '?' one character). Default: every tool.",
      }),
    ),
    requestsPerSecond: Type.Number({
      // minimum, not exclusiveMinimum: a CRD's OpenAPI v3 schema takes exclusiveMinimum as a bool.
      minimum: 0.001,
      maximum: 1_000_000,
      description:
        'Sustained rate: tokens added to each bucket per second (0.1 = one call per 10 s; at least 0.001).',
    }),
    burst: Type.Integer({
      minimum: 1,
      maximum: 1_000_000,
      description: 'Bucket size: calls allowed at once after a quiet period.',
    }),
  },
  { additionalProperties: false },
);
export type RateLimit = Type.Static<typeof RateLimit>;

export const RateLimits = Type.Array(RateLimit, {
  maxItems: 64,
  description: 'Token-bucket limits on tools/call, each one enforced by every sidecar replica on its own.',
});
