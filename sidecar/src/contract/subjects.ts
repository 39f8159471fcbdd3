import type { Subject } from './policy-rule.ts';
import type { Principal } from './principal.ts';

// A rule's subjects compiled into one predicate over the principal. Each subject kind reads one
// principal field set by the authenticator:
//   user            principal.name (the configured username claim; an API key's subject)
//   group           principal.groups
//   serviceAccount  principal.serviceAccount ('ns/name' or 'ns/*'), set only for verified SA tokens
//   claim           principal.claims[name] equals value, or contains it when an array
//   apiKey          principal.apiKeyId
//   anyAuthenticated every principal except the anonymous one

export type SubjectMatcher = (principal: Principal) => boolean;

/** Throws a plain Error naming the problem; policy.ts adds the rule and field. */
export function compileSubject(subject: Subject): SubjectMatcher {
  const keys = Object.keys(subject).filter((k) => (subject as Record<string, unknown>)[k] !== undefined);
  if (keys.length !== 1)
    throw new Error(`a subject names exactly one kind, found ${keys.length ? keys.join(', ') : 'none'}`);
  if (subject.user !== undefined) {
    const user = subject.user;
    return (p) => p.name === user;
  }
  if (subject.group !== undefined) {
    const group = subject.group;
    return (p) => p.groups.includes(group);
  }
  if (subject.serviceAccount !== undefined) {
    const slash = subject.serviceAccount.indexOf('/');
    if (slash <= 0) throw new Error(`serviceAccount '${subject.serviceAccount}' is not 'namespace/name'`);
    const ns = subject.serviceAccount.slice(0, slash);
    const name = subject.serviceAccount.slice(slash + 1);
    if (name === '*') return (p) => p.serviceAccount?.namespace === ns;
    return (p) => p.serviceAccount?.namespace === ns && p.serviceAccount.name === name;
  }
  if (subject.claim !== undefined) {
    const { name, value } = subject.claim;
    return (p) => {
      const v = p.claims[name];
      return v === value || (Array.isArray(v) && v.includes(value));
    };
  }
  if (subject.apiKey !== undefined) {
    const id = subject.apiKey;
    return (p) => p.apiKeyId === id;
  }
  if (subject.anyAuthenticated === true) return (p) => p.method !== 'anonymous';
  if (subject.anyAuthenticated === false)
    throw new Error('anyAuthenticated: false matches nobody; remove the subject');
  throw new Error(`unknown subject kind '${keys[0]}'`);
}

export function compileSubjects(subjects: readonly Subject[]): SubjectMatcher {
  const matchers = subjects.map(compileSubject);
  if (matchers.length === 1) return matchers[0] as SubjectMatcher;
  return (p) => {
    for (const m of matchers) if (m(p)) return true;
    return false;
  };
}
