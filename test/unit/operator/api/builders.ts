import type { HostedSource } from '../../../../operator/src/api/hosted-source.ts';
import type { McpPolicy } from '../../../../operator/src/api/mcp-policy.ts';
import type { McpServer, McpServerSpec } from '../../../../operator/src/api/mcp-server.ts';
import {
  type OperatorDefaults,
  parseOperatorDefaults,
} from '../../../../operator/src/api/operator-defaults.ts';
import type { PolicyRule } from '../../../../sidecar/src/contract/policy-rule.ts';

// Small builders for test objects: a valid object by default, overridden where a case needs it.

type ServerOptions = {
  name?: string;
  namespace?: string;
  labels?: Record<string, string>;
  hosted?: Partial<HostedSource>;
  spec?: Partial<McpServerSpec>;
};

export function server(o: ServerOptions = {}): McpServer {
  return {
    apiVersion: 'portcullis.dev/v1alpha1',
    kind: 'McpServer',
    metadata: {
      name: o.name ?? 'everything',
      namespace: o.namespace ?? 'team-a',
      uid: '6f1f2c1e-0000-4000-8000-000000000001',
      generation: 1,
      labels: o.labels ?? { team: 'payments' },
    },
    spec: {
      hosted: {
        image: 'mcp/everything:1',
        transport: 'streamable-http',
        port: 3001,
        replicas: 1,
        ...o.hosted,
      },
      ...o.spec,
    },
  };
}

export function rule(o: Partial<PolicyRule> = {}): PolicyRule {
  return {
    name: 'engineers-read',
    action: 'allow',
    subjects: [{ group: 'engineering' }],
    tools: ['get-*'],
    ...o,
  };
}

type PolicyOptions = {
  name?: string;
  namespace?: string;
  servers?: McpPolicy['spec']['servers'];
  rules?: PolicyRule[];
};

export function policy(o: PolicyOptions = {}): McpPolicy {
  return {
    apiVersion: 'portcullis.dev/v1alpha1',
    kind: 'McpPolicy',
    metadata: { name: o.name ?? 'read', namespace: o.namespace ?? 'team-a', uid: 'p-uid', generation: 1 },
    spec: { servers: o.servers ?? { matchLabels: { team: 'payments' } }, rules: o.rules ?? [rule()] },
  };
}

export function defaults(overrides: Record<string, unknown> = {}): OperatorDefaults {
  return parseOperatorDefaults({
    sidecar: { image: 'portcullis/sidecar:0.1.0' },
    authentication: {
      oidc: [{ issuer: 'https://idp.example.test' }],
      serviceAccounts: { issuer: 'https://kubernetes.default.svc.cluster.local' },
    },
    monitoring: { namespace: 'monitoring' },
    ...overrides,
  });
}
