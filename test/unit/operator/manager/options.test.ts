import { describe, expect, it } from 'vitest';
import { OptionsError, parseOptions } from '../../../../operator/src/manager/options.ts';

const base = ['--sidecar-image', 'portcullis/sidecar:1'];

describe('parseOptions', () => {
  it('defaults to cluster-wide mode with leader election', () => {
    const o = parseOptions(base, {});
    expect(o.namespaces).toBeUndefined();
    expect(o.leaderElection).toMatchObject({
      enabled: true,
      name: 'portcullis-operator',
      namespace: 'portcullis-system',
    });
    expect(o.defaults.sidecar.image).toBe('portcullis/sidecar:1');
    expect(o.health).toEqual({ host: '0.0.0.0', port: 8081 });
  });

  it.each([
    { name: 'flag', argv: [...base, '--namespaces', 'a, b'], env: {}, namespaces: ['a', 'b'] },
    { name: 'environment', argv: base, env: { PORTCULLIS_NAMESPACES: 'team-x' }, namespaces: ['team-x'] },
  ])('namespace-scoped mode from the $name', ({ argv, env, namespaces }) => {
    expect(parseOptions(argv, env).namespaces).toEqual(namespaces);
  });

  it('takes the lease namespace and identity from the pod environment', () => {
    const o = parseOptions(base, { POD_NAMESPACE: 'ops', POD_NAME: 'operator-7f' });
    expect(o.leaderElection.namespace).toBe('ops');
    expect(o.identity).toBe('operator-7f');
  });

  it.each([
    { name: 'a bad namespace', argv: [...base, '--namespaces', 'Bad_NS'], fault: '--namespaces' },
    { name: 'no sidecar image', argv: [], fault: '--defaults/--sidecar-image' },
    { name: 'workers out of range', argv: [...base, '--workers', '0'], fault: '--workers' },
    {
      name: 'a health address without port',
      argv: [...base, '--health-addr', 'localhost'],
      fault: '--health-addr',
    },
    {
      name: 'leader-elect not a boolean',
      argv: [...base, '--leader-elect', 'maybe'],
      fault: '--leader-elect',
    },
  ])('fails fast on $name, naming the flag', ({ argv, fault }) => {
    expect(() => parseOptions(argv, {})).toThrow(OptionsError);
    expect(() => parseOptions(argv, {})).toThrow(fault);
  });
});
