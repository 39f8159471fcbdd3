import { describe, expect, it } from 'vitest';
import type { LabelSelector } from '../../../../operator/src/api/kube-types.ts';
import {
  policiesForServer,
  selectorMatches,
  selectorProblems,
  serversForPolicy,
} from '../../../../operator/src/policy/selection.ts';
import { policy, server } from '../api/builders.ts';

const labels = { team: 'payments', tier: 'gold' };

describe('selectorMatches', () => {
  it.each<{ name: string; selector: LabelSelector; matches: boolean }>([
    { name: 'the empty selector selects everything', selector: {}, matches: true },
    { name: 'matchLabels, all present', selector: { matchLabels: labels }, matches: true },
    {
      name: 'matchLabels, one differs',
      selector: { matchLabels: { team: 'payments', tier: 'silver' } },
      matches: false,
    },
    { name: 'matchLabels, one missing', selector: { matchLabels: { env: 'prod' } }, matches: false },
    {
      name: 'In, value listed',
      selector: { matchExpressions: [{ key: 'tier', operator: 'In', values: ['gold', 'silver'] }] },
      matches: true,
    },
    {
      name: 'In, label missing',
      selector: { matchExpressions: [{ key: 'env', operator: 'In', values: ['prod'] }] },
      matches: false,
    },
    {
      name: 'NotIn, value listed',
      selector: { matchExpressions: [{ key: 'tier', operator: 'NotIn', values: ['gold'] }] },
      matches: false,
    },
    {
      name: 'NotIn, label missing',
      selector: { matchExpressions: [{ key: 'env', operator: 'NotIn', values: ['prod'] }] },
      matches: true,
    },
    { name: 'Exists', selector: { matchExpressions: [{ key: 'team', operator: 'Exists' }] }, matches: true },
    {
      name: 'DoesNotExist',
      selector: { matchExpressions: [{ key: 'team', operator: 'DoesNotExist' }] },
      matches: false,
    },
    {
      name: 'labels and expressions together',
      selector: {
        matchLabels: { team: 'payments' },
        matchExpressions: [{ key: 'tier', operator: 'In', values: ['gold'] }],
      },
      matches: true,
    },
    {
      name: 'an invalid selector selects nothing',
      selector: { matchExpressions: [{ key: 'team', operator: 'In', values: [] }] },
      matches: false,
    },
  ])('$name', ({ selector, matches }) => {
    expect(selectorMatches(selector, labels)).toBe(matches);
  });
});

describe('selectorProblems', () => {
  it.each<{ name: string; selector: LabelSelector; problem: string | undefined }>([
    { name: 'a valid selector', selector: { matchLabels: { 'example.com/team': 'a' } }, problem: undefined },
    {
      name: 'a bad key',
      selector: { matchLabels: { 'bad key': 'a' } },
      problem: "matchLabels: 'bad key' is not a valid label key",
    },
    {
      name: 'a bad value',
      selector: { matchLabels: { team: 'a b' } },
      problem: "matchLabels.team: 'a b' is not a valid label value",
    },
    {
      name: 'In without values',
      selector: { matchExpressions: [{ key: 'a', operator: 'In' }] },
      problem: 'matchExpressions[0]: In needs at least one value',
    },
    {
      name: 'Exists with values',
      selector: { matchExpressions: [{ key: 'a', operator: 'Exists', values: ['x'] }] },
      problem: 'matchExpressions[0]: Exists takes no values',
    },
  ])('$name', ({ selector, problem }) => {
    expect(selectorProblems(selector)[0]).toBe(problem);
  });
});

describe('policiesForServer and serversForPolicy', () => {
  const payments = server({ name: 'pay', labels: { team: 'payments' } });
  const search = server({ name: 'search', labels: { team: 'search' } });
  const elsewhere = server({ name: 'pay2', namespace: 'team-b', labels: { team: 'payments' } });
  const forPayments = policy({ name: 'p-payments', servers: { matchLabels: { team: 'payments' } } });
  const forAll = policy({ name: 'a-all', servers: {} });
  const otherNamespace = policy({ name: 'b-other', namespace: 'team-b', servers: {} });

  it.each([
    {
      name: 'a server selected by two policies, in name order',
      s: payments,
      expected: ['a-all', 'p-payments'],
    },
    { name: 'a server only the catch-all selects', s: search, expected: ['a-all'] },
    { name: 'policies never cross namespaces', s: elsewhere, expected: ['b-other'] },
  ])('$name', ({ s, expected }) => {
    expect(policiesForServer(s, [forPayments, forAll, otherNamespace]).map((p) => p.metadata.name)).toEqual(
      expected,
    );
  });

  it.each([
    { name: 'a label selector', p: forPayments, expected: ['pay'] },
    { name: 'the empty selector, within its namespace', p: forAll, expected: ['pay', 'search'] },
    { name: 'another namespace', p: otherNamespace, expected: ['pay2'] },
  ])('servers of a policy with $name', ({ p, expected }) => {
    expect(serversForPolicy(p, [search, payments, elsewhere])).toEqual(expected);
  });
});
