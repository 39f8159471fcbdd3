import { describe, expect, it } from 'vitest';
import type { AuditInput } from '../../../../sidecar/src/audit/event.ts';
import { createAuditRecorder, toAuditInput } from '../../../../sidecar/src/audit/recorder.ts';
import type { McpRecord } from '../../../../sidecar/src/record/mcp-record.ts';

const record = (overrides: Partial<McpRecord> = {}): McpRecord => ({
  startedAt: Date.UTC(2026, 0, 1),
  outcome: 'allowed',
  transport: 'streamable-http',
  httpMethod: 'POST',
  source: { address: '10.1.2.3', port: 4000 },
  method: 'tools/call',
  latencyMs: 2,
  ownLatencyMs: 1,
  ...overrides,
});

describe('pipeline record → audit input', () => {
  it.each([
    {
      name: 'a service account keeps namespace/name and drops claims and scopes',
      rec: record({
        principal: {
          subject: 'system:serviceaccount:ci:bot',
          name: 'system:serviceaccount:ci:bot',
          groups: ['system:serviceaccounts'],
          method: 'service-account',
          serviceAccount: { namespace: 'ci', name: 'bot' },
          scopes: ['x'],
          claims: { secret: 'no' },
        },
      }),
      expected: {
        principal: {
          subject: 'system:serviceaccount:ci:bot',
          name: 'system:serviceaccount:ci:bot',
          groups: ['system:serviceaccounts'],
          method: 'service-account',
          serviceAccount: 'ci/bot',
        },
      },
    },
    {
      name: 'the incoming traceparent becomes trace ids',
      rec: record({ traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01' }),
      expected: { trace: { traceId: '0af7651916cd43dd8448eb211c80319c', spanId: 'b7ad6b7169203331' } },
    },
    {
      name: 'a refusal keeps its code and detail in the reason',
      rec: record({ outcome: 'failed', errorCode: 'UPSTREAM_TIMEOUT', reason: 'no answer in 60 s' }),
      expected: { outcome: 'failed', reason: 'UPSTREAM_TIMEOUT: no answer in 60 s' },
    },
    {
      name: 'the arrival time is the record start',
      rec: record(),
      expected: {
        time: new Date(Date.UTC(2026, 0, 1)),
        server: { name: 'gh' },
        source: { address: '10.1.2.3', port: 4000 },
      },
    },
  ])('$name', ({ rec, expected }) => {
    const input = toAuditInput(rec, { name: 'gh' });
    expect(input).toMatchObject(expected);
    expect(JSON.stringify(input)).not.toContain('claims');
  });
});

describe('audit recorder', () => {
  it("names the server by name and namespace only, not the configuration's whole server block", async () => {
    const inputs: AuditInput[] = [];
    const auditor = {
      record: async (i: AuditInput) => void inputs.push(i),
      accepting: () => true,
      close: async () => {},
    };
    const server = { name: 'gh', namespace: 'tools', canonicalUri: 'https://gh.tools.example/mcp' };
    createAuditRecorder(auditor, { server, logger: { info() {}, warn() {}, error() {} } }).record(record());
    expect(inputs[0]?.server).toStrictEqual({ name: 'gh', namespace: 'tools' });
  });
});
