import { describe, expect, it } from 'vitest';
import { parseKubeconfig } from '../../../../operator/src/kube/connection.ts';

const b64 = (s: string) => Buffer.from(s).toString('base64');

const kubeconfig = (user: string) => `apiVersion: v1
kind: Config
current-context: test
contexts:
- name: test
  context: { cluster: c1, user: u1 }
- name: other
  context: { cluster: c2, user: u1 }
clusters:
- name: c1
  cluster: { server: "https://127.0.0.1:6443", certificate-authority-data: "${b64('CA')}", tls-server-name: api.local }
- name: c2
  cluster: { server: "https://elsewhere:6443" }
users:
- name: u1
  user: ${user}
`;

describe('parseKubeconfig', () => {
  it('reads the current context: server, CA and client certificate', () => {
    const parsed = parseKubeconfig(
      kubeconfig(`{ client-certificate-data: "${b64('CERT')}", client-key-data: "${b64('KEY')}" }`),
      '/tmp',
    );
    if (parsed === 'needs-plugins') throw new Error('expected a direct connection');
    expect(parsed.server).toBe('https://127.0.0.1:6443');
    expect(String(parsed.ca)).toBe('CA');
    expect(String(parsed.cert)).toBe('CERT');
    expect(String(parsed.key)).toBe('KEY');
    expect(parsed.servername).toBe('api.local');
    expect(parsed.token).toBeUndefined();
  });

  it('uses a bearer token', () => {
    const parsed = parseKubeconfig(kubeconfig('{ token: abc }'), '/tmp');
    if (parsed === 'needs-plugins') throw new Error('expected a direct connection');
    expect(parsed.token?.()).toBe('abc');
  });

  it.each([
    {
      name: 'an exec plugin',
      user: '{ exec: { command: aws, apiVersion: client.authentication.k8s.io/v1 } }',
    },
    { name: 'an auth-provider', user: '{ auth-provider: { name: oidc } }' },
    { name: 'basic auth', user: '{ username: a, password: b }' },
  ])('leaves $name to client-node', ({ user }) => {
    expect(parseKubeconfig(kubeconfig(user), '/tmp')).toBe('needs-plugins');
  });

  it('names a missing context', () => {
    expect(() =>
      parseKubeconfig(kubeconfig('{}').replace('current-context: test', 'current-context: nope'), '/tmp'),
    ).toThrow("current context 'nope' not found");
  });
});
