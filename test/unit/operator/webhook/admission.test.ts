import { describe, expect, it } from 'vitest';
import { review } from '../../../../operator/src/webhook/admission.ts';
import { policy, rule } from '../api/builders.ts';

// The admission answer: the request's uid echoed, allowed for policies that compile, refused with
// the compiler's message (rule, field, line and column) for those that do not.

const request = (kind: string, object: unknown) => ({
  apiVersion: 'admission.k8s.io/v1',
  kind: 'AdmissionReview',
  request: { uid: 'u-1', kind: { group: 'portcullis.dev', kind }, operation: 'CREATE', object },
});

describe('review', () => {
  it('allows a policy that compiles', () => {
    expect(review(request('McpPolicy', policy()))).toEqual({
      apiVersion: 'admission.k8s.io/v1',
      kind: 'AdmissionReview',
      response: { uid: 'u-1', allowed: true },
    });
  });

  it('refuses bad CEL with where it is', () => {
    const bad = policy({ rules: [rule({ name: 'cel', when: 'arguments.x ==' })] });
    const r = review(request('McpPolicy', bad)) as {
      response: { allowed: boolean; status: { message: string } };
    };
    expect(r.response.allowed).toBe(false);
    expect(r.response.status.message).toMatch(/^McpPolicy read: rule "cel": when: .* at line 1, column \d+/);
  });

  it('refuses a ClusterMcpPolicy with an invalid namespace selector', () => {
    const bad = {
      metadata: { name: 'guard' },
      spec: { namespaceSelector: { matchLabels: { 'bad key!': 'x' } }, servers: {}, rules: [rule()] },
    };
    const r = review(request('ClusterMcpPolicy', bad)) as {
      response: { allowed: boolean; status: { message: string } };
    };
    expect(r.response.allowed).toBe(false);
    expect(r.response.status.message).toContain('spec.namespaceSelector');
  });
});
