import type { AuditInput } from '../../../../sidecar/src/audit/event.ts';

// Small builders for audit test objects; each test states only what it cares about.

export function callInput(overrides: Partial<AuditInput> = {}): AuditInput {
  return {
    outcome: 'allowed',
    server: { name: 'github', namespace: 'tools' },
    principal: { subject: 'alice@example.com', name: 'Alice', groups: ['engineering'], method: 'oidc' },
    client: { name: 'inspector', version: '0.15.0' },
    source: { address: '10.0.0.7', port: 51234 },
    session: 'sess-1',
    method: 'tools/call',
    jsonrpcId: 7,
    target: { tool: 'search_issues' },
    decision: { effect: 'allow', rule: 'engineers-read', policy: 'tools/payments' },
    arguments: { query: 'bug' },
    result: { isError: false, bytes: 120 },
    latencyMs: 1.5,
    ...overrides,
  };
}
