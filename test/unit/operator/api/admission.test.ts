import { describe, expect, it } from 'vitest';
import type { McpServer } from '../../../../operator/src/api/mcp-server.ts';
import { policy, rule, server } from './builders.ts';
import { admit } from './crd-validator.ts';

// What the API server accepts and refuses by the CRDs' schemas and CEL rules (evaluated here with
// cel-js; the kube tests apply the same objects to a real API server).

const withSpec = (patch: (s: McpServer) => void) => {
  const s = server();
  patch(s);
  return s;
};
const hosted = (s: McpServer) => s.spec.hosted as NonNullable<McpServer['spec']['hosted']>;

describe('McpServer admission', () => {
  it.each([
    { name: 'a hosted streamable-http server', object: server() },
    { name: 'an sse server with its path', object: server({ hosted: { transport: 'sse', path: '/sse' } }) },
    {
      name: 'a stdio server with its command and limits, without port and path',
      object: withSpec((s) => {
        hosted(s).transport = 'stdio';
        hosted(s).command = ['npx', '-y', '@modelcontextprotocol/server-everything', 'stdio'];
        hosted(s).stdio = { maxProcesses: 8, warm: 2, idleTimeoutSeconds: 60, stopGraceSeconds: 5 };
        delete hosted(s).port;
      }),
    },
    {
      name: 'env from a secret key and a Localhost seccomp profile',
      object: server({
        hosted: {
          env: [{ name: 'TOKEN', valueFrom: { secretKeyRef: { name: 'creds', key: 'token' } } }],
          securityContext: {
            runAsUser: 1000,
            seccompProfile: { type: 'Localhost', localhostProfile: 'p.json' },
          },
        },
      }),
    },
    {
      name: 'quantities as strings and integers',
      object: server({
        hosted: { resources: { requests: { cpu: '500m', memory: '128Mi' }, limits: { cpu: 2 } } },
      }),
    },
  ])('accepts $name', ({ object }) => {
    expect(admit('McpServer', object).errors).toEqual([]);
  });

  it('fills defaults: transport streamable-http, one replica', () => {
    const s = withSpec((x) => {
      delete (hosted(x) as Partial<ReturnType<typeof hosted>>).transport;
      delete (hosted(x) as Partial<ReturnType<typeof hosted>>).replicas;
    });
    const { errors, value } = admit('McpServer', s);
    expect(errors).toEqual([]);
    expect((value as McpServer).spec.hosted).toMatchObject({ transport: 'streamable-http', replicas: 1 });
  });

  it.each([
    {
      name: 'two sources',
      object: withSpec((s) => Object.assign(s.spec, { external: {} })),
      error: 'set exactly one of spec.hosted, spec.external, spec.compose',
    },
    {
      name: 'no source',
      object: withSpec((s) => delete s.spec.hosted),
      error: 'set exactly one of spec.hosted, spec.external, spec.compose',
    },
    {
      name: 'an external source (not yet supported)',
      object: withSpec((s) => {
        delete s.spec.hosted;
        Object.assign(s.spec, { external: {} });
      }),
      error: 'spec.external and spec.compose are not supported by this version',
    },
    { name: 'port 0', object: server({ hosted: { port: 0 } }), error: '/spec/hosted/port: must be >= 1' },
    {
      name: 'port 65536',
      object: server({ hosted: { port: 65536 } }),
      error: '/spec/hosted/port: must be <= 65535',
    },
    {
      name: 'an unknown transport',
      object: server({ hosted: { transport: 'websocket' as 'sse' } }),
      error: '/spec/hosted/transport: must be equal to one of the allowed values',
    },
    {
      name: 'streamable-http without a port',
      object: withSpec((s) => delete hosted(s).port),
      error: 'port is required for the streamable-http and sse transports',
    },
    {
      name: 'stdio without a command',
      object: withSpec((s) => {
        hosted(s).transport = 'stdio';
        delete hosted(s).port;
      }),
      error: 'command is required for the stdio transport',
    },
    {
      name: 'a warm pool larger than maxProcesses',
      object: withSpec((s) => {
        hosted(s).transport = 'stdio';
        hosted(s).command = ['server'];
        hosted(s).stdio = { maxProcesses: 2, warm: 3, idleTimeoutSeconds: 60, stopGraceSeconds: 5 };
        delete hosted(s).port;
      }),
      error: 'warm must not exceed maxProcesses',
    },
    {
      name: 'stdio limits on an HTTP server',
      object: withSpec((s) => {
        hosted(s).stdio = { maxProcesses: 2, warm: 0, idleTimeoutSeconds: 60, stopGraceSeconds: 5 };
      }),
      error: 'stdio applies only to the stdio transport',
    },
    {
      name: 'stdio with a port',
      object: server({ hosted: { transport: 'stdio' } }),
      error: 'port and path do not apply to the stdio transport',
    },
    {
      name: 'running as root',
      object: server({ hosted: { securityContext: { runAsUser: 0 } } }),
      error: '/spec/hosted/securityContext/runAsUser: must be >= 1',
    },
    {
      name: 'an Unconfined seccomp profile',
      object: server({
        hosted: { securityContext: { seccompProfile: { type: 'Unconfined' as 'Localhost' } } },
      }),
      error: '/spec/hosted/securityContext/seccompProfile/type: must be equal to one of the allowed values',
    },
    {
      name: 'a field that would switch hardening off',
      object: server({ hosted: { securityContext: { privileged: true } as object } }),
      error: '.spec.hosted.securityContext.privileged: unknown field',
    },
    {
      name: 'an env var with value and valueFrom',
      object: server({
        hosted: { env: [{ name: 'A', value: 'x', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } }] },
      }),
      error: 'set value or valueFrom, not both',
    },
    {
      name: 'a memory limit that is no quantity',
      object: server({ hosted: { resources: { limits: { memory: 'lots' } } } }),
      error: '/spec/hosted/resources/limits/memory: must match pattern',
    },
    {
      name: 'a negative cpu request',
      object: server({ hosted: { resources: { requests: { cpu: -1 } } } }),
      error: '/spec/hosted/resources/requests/cpu: must be >= 0',
    },
    {
      name: 'a name that cannot be a Service name',
      object: server({ name: '1-server' }),
      error: 'the name must be a DNS label',
    },
  ])('refuses $name', ({ object, error }) => {
    const { errors } = admit('McpServer', object);
    expect(errors.join('\n')).toContain(error);
  });
});

describe('McpPolicy admission', () => {
  it('accepts a policy with every subject kind', () => {
    const p = policy({
      rules: [
        rule({
          subjects: [
            { group: 'engineering' },
            { user: 'alice@example.com' },
            { serviceAccount: 'ci/release-bot' },
            { claim: { name: 'roles', value: 'mcp-reader' } },
            { apiKey: 'build' },
            { anyAuthenticated: true },
          ],
          resources: ['repo://acme/*'],
          prompts: ['*'],
          when: 'arguments.owner == "acme"',
        }),
      ],
    });
    expect(admit('McpPolicy', p).errors).toEqual([]);
  });

  it.each([
    {
      name: 'a subject with two kinds',
      object: policy({ rules: [rule({ subjects: [{ user: 'a', group: 'b' }] })] }),
      error: 'must not have more than 1 properties',
    },
    {
      name: 'an unknown action',
      object: policy({ rules: [rule({ action: 'audit' as 'allow' })] }),
      error: '/spec/rules/0/action: must be equal to one of the allowed values',
    },
    {
      name: 'a rule without subjects',
      object: policy({ rules: [rule({ subjects: [] })] }),
      error: 'must not have fewer than 1 items',
    },
    {
      name: 'In without values',
      object: policy({ servers: { matchExpressions: [{ key: 'team', operator: 'In' }] } }),
      error: 'In and NotIn need at least one value',
    },
    {
      name: 'an unknown rule field',
      object: policy({ rules: [{ ...rule(), tool: ['x'] } as ReturnType<typeof rule>] }),
      error: '.spec.rules[0].tool: unknown field',
    },
  ])('refuses $name', ({ object, error }) => {
    expect(admit('McpPolicy', object).errors.join('\n')).toContain(error);
  });
});
