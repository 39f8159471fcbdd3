import { describe, expect, it } from 'vitest';
import {
  OperatorDefaultsError,
  parseOperatorDefaults,
} from '../../../../operator/src/api/operator-defaults.ts';

describe('parseOperatorDefaults', () => {
  it('fills every default from the sidecar image alone', () => {
    const d = parseOperatorDefaults({ sidecar: { image: 'portcullis/sidecar:1' } });
    expect(d).toMatchObject({
      clusterDomain: 'cluster.local',
      sidecar: { port: 8080, adminPort: 9090, servicePort: 80, runAsUser: 65532 },
      authentication: { oidc: [] },
      audit: {},
      monitoring: {},
    });
    expect(d.mcpServer.resources.requests).toEqual({ cpu: '100m', memory: '128Mi' });
  });

  it('fills the defaults of identity providers from the sidecar schema', () => {
    const d = parseOperatorDefaults({
      sidecar: { image: 'i' },
      authentication: { oidc: [{ issuer: 'https://idp' }] },
    });
    expect(d.authentication.oidc[0]).toMatchObject({
      issuer: 'https://idp',
      usernameClaim: 'sub',
      groupsClaim: 'groups',
    });
  });

  it.each([
    { name: 'no sidecar image', input: { sidecar: {} }, path: '/sidecar' },
    { name: 'a bad port', input: { sidecar: { image: 'i', port: 0 } }, path: '/sidecar/port' },
    { name: 'an unknown section', input: { sidecar: { image: 'i' }, audits: {} }, path: '/' },
    {
      name: 'an audit sink of unknown type',
      input: { sidecar: { image: 'i' }, audit: { sinks: [{ type: 'kafka' }] } },
      path: '/audit/sinks/0',
    },
    {
      name: 'the admin port equal to the MCP port',
      input: { sidecar: { image: 'i', port: 9090 } },
      path: '/sidecar/adminPort: must differ from /sidecar/port (both are 9090)',
    },
    {
      name: 'a memory limit that is no quantity',
      input: { sidecar: { image: 'i', resources: { limits: { memory: 'lots' } } } },
      path: '/sidecar/resources/limits/memory',
    },
    {
      name: 'a negative cpu request',
      input: { sidecar: { image: 'i' }, mcpServer: { resources: { requests: { cpu: '-1' } } } },
      path: '/mcpServer/resources/requests/cpu',
    },
  ])('refuses $name, naming the path', ({ input, path }) => {
    expect(() => parseOperatorDefaults(input)).toThrow(OperatorDefaultsError);
    expect(() => parseOperatorDefaults(input)).toThrow(path);
  });

  it.each(['500m', '1.5', '128Mi', '1G', '2e3', 2])('accepts the quantity %s', (cpu) => {
    const d = parseOperatorDefaults({ sidecar: { image: 'i', resources: { requests: { cpu } } } });
    expect(d.sidecar.resources.requests.cpu).toBe(cpu);
  });
});
