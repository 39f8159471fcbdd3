import canonicalize from 'canonicalize';
import { describe, expect, it } from 'vitest';
import { buildEvent } from '../../../../sidecar/src/audit/build-event.ts';
import { createChain, eventHash } from '../../../../sidecar/src/audit/chain.ts';
import { AuditEvent, GENESIS_HASH } from '../../../../sidecar/src/audit/event.ts';
import { compilePayloadCapture } from '../../../../sidecar/src/audit/payload.ts';
import { verifyText } from '../../../../sidecar/src/audit/verify.ts';
import { callInput } from './builders.ts';

const payloads = compilePayloadCapture({ capture: 'redacted' });

function stream(n: number, instance = 'pod-a'): string[] {
  const chain = createChain();
  const lines: string[] = [];
  for (let i = 0; i < n; i++) {
    const body = buildEvent(callInput({ jsonrpcId: i }), {
      id: `id-${instance}-${i}`,
      instance,
      now: new Date(Date.UTC(2026, 0, 1, 0, 0, i)),
      payloads,
    });
    lines.push(chain.seal(body).line);
  }
  return lines;
}

describe('hash chain', () => {
  it('numbers events from 1 and links each to the previous hash', () => {
    const events = stream(3).map((l) => JSON.parse(l));
    expect(events.map((e) => e.seq)).toEqual([1, 2, 3]);
    expect(events[0].prevHash).toBe(GENESIS_HASH);
    expect(events[1].prevHash).toBe(events[0].hash);
    expect(events[2].prevHash).toBe(events[1].hash);
    for (const e of events) expect(eventHash(e)).toBe(e.hash);
  });

  it('hashes the canonical form, so key order in the written JSON does not matter', () => {
    const [line] = stream(1);
    const event = JSON.parse(line as string);
    const reordered = Object.fromEntries(Object.entries(event).reverse());
    expect(eventHash(reordered as typeof event)).toBe(event.hash);
  });
});

type Tamper = (lines: string[]) => string[];
const edit =
  (i: number, f: (e: Record<string, unknown>) => void): Tamper =>
  (lines) =>
    lines.map((l, j) => {
      if (j !== i) return l;
      const e = JSON.parse(l);
      f(e);
      return JSON.stringify(e);
    });

const cases: Array<{ name: string; tamper: Tamper; line: number; problem: RegExp }> = [
  {
    name: 'an edited field',
    tamper: edit(4, (e) => (e.outcome = 'denied')),
    line: 5,
    problem: /hash mismatch/,
  },
  {
    name: 'an edited field with a recomputed hash',
    tamper: edit(4, (e) => {
      e.outcome = 'denied';
      e.hash = eventHash(e as never);
    }),
    line: 6,
    problem: /prevHash/,
  },
  {
    name: 'a deleted line',
    tamper: (l) => l.filter((_, i) => i !== 4),
    line: 5,
    problem: /gap: seq 5\.\.5 missing/,
  },
  { name: 'a deleted first line', tamper: (l) => l.slice(1), line: 1, problem: /expected 1/ },
  {
    name: 'swapped lines',
    tamper: (l) => [...l.slice(0, 3), l[4] as string, l[3] as string, ...l.slice(5)],
    line: 4,
    problem: /gap/,
  },
  {
    name: 'a duplicated line',
    tamper: (l) => [...l.slice(0, 5), l[4] as string, ...l.slice(5)],
    line: 6,
    problem: /duplicate/,
  },
  {
    name: 'a truncated line',
    tamper: (l) => l.map((x, i) => (i === 2 ? x.slice(0, 40) : x)),
    line: 3,
    problem: /not JSON/,
  },
  {
    name: 'an event missing a field',
    tamper: edit(1, (e) => delete e.method),
    line: 2,
    problem: /not a valid event/,
  },
];

describe('verify', () => {
  it('accepts an intact stream and skips other log lines', () => {
    const lines = stream(10);
    lines.splice(3, 0, '{"level":30,"msg":"unrelated log line"}');
    const state = verifyText(`${lines.join('\n')}\n`);
    expect(state.failure).toBeUndefined();
    expect(state.events).toBe(10);
    expect(state.skipped).toBe(1);
  });

  it('verifies interleaved instances independently', () => {
    const a = stream(5, 'pod-a');
    const b = stream(5, 'pod-b');
    const mixed = a.flatMap((l, i) => [l, b[i] as string]);
    const state = verifyText(mixed.join('\n'));
    expect(state.failure).toBeUndefined();
    expect(state.instances.get('pod-b')?.seq).toBe(5);
  });

  it.each(cases)('names the first problem: $name', ({ tamper, line, problem }) => {
    const state = verifyText(tamper(stream(10)).join('\n'));
    expect(state.failure?.line).toBe(line);
    expect(state.failure?.problem).toMatch(problem);
  });

  it('accepts a stream that starts mid-chain when asked to (rotated files)', () => {
    const lines = stream(10).slice(4);
    expect(verifyText(lines.join('\n')).failure?.line).toBe(1);
    expect(verifyText(lines.join('\n'), { partial: true }).failure).toBeUndefined();
  });
});

describe('sealing', () => {
  // A seeded stream of JSON values with the keys and numbers RFC 8785 is particular about: code-unit
  // key order (non-ASCII, surrogate pairs, digits), exponent forms, -0, escapes, a Date.
  function randomJson(seed: number): () => unknown {
    let s = seed;
    const rnd = () => {
      s = (s * 1103515245 + 12345) % 2 ** 31;
      return s / 2 ** 31;
    };
    const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)] as T;
    const keys = ['a', 'B', 'b', '10', '9', 'é', '€', '😀', 'ﬀ', '\u0000', 'hash', '', 'aa', 'Z'];
    const numbers = [
      0,
      -0,
      1,
      -1,
      0.1,
      1e21,
      1e-7,
      123456789.123,
      2 ** 53,
      -1.5e-300,
      Number('333333333.33333329'),
    ];
    const strings: unknown[] = [
      new Date(0),
      '',
      'plain',
      'quote " and \\',
      'line\nbreak\t',
      '\u001f',
      '€😀',
      '\u2028',
    ];
    const value = (depth: number): unknown => {
      const r = rnd();
      if (depth > 3 || r < 0.4) return pick([...numbers, ...strings, true, false, null]);
      if (r < 0.6) return Array.from({ length: Math.floor(rnd() * 4) }, () => value(depth + 1));
      return Object.fromEntries(
        Array.from({ length: Math.floor(rnd() * 6) }, () => [pick(keys), value(depth + 1)]),
      );
    };
    return () => value(0);
  }

  const full = compilePayloadCapture({ capture: 'full', detectors: false });
  const sealOne = (chain: ReturnType<typeof createChain>, args: unknown) =>
    chain.seal(
      buildEvent(callInput({ arguments: { value: args } }), {
        id: 'id-1',
        instance: 'pod-a',
        now: new Date(0),
        payloads: full,
      }),
    );

  it('gives every event the hash the reference implementation (canonicalize) computes', () => {
    const next = randomJson(42);
    const chain = createChain();
    for (let i = 0; i < 2_000; i++) {
      const { line } = sealOne(chain, next());
      const event = JSON.parse(line);
      expect(eventHash(event)).toBe(event.hash);
    }
  });

  it('writes each event as its RFC 8785 form with the hash appended', () => {
    // Every field of the schema present, so a new field cannot escape the key order.
    const body = buildEvent(
      callInput({
        protocolVersion: '2025-06-18',
        toolDigest: 'sha256:abc',
        drift: {
          kind: 'tool',
          name: 'add',
          effect: 'held',
          reason: 'changed',
          pinned: 'sha256:a',
          observed: 'sha256:b',
          changes: [{ path: '/description', change: 'changed', before: 'x', after: { z: 1, a: 2 } }],
          suspicious: [{ path: '/description', class: 'tag', codePoint: 'U+E0041', count: 1 }],
        },
        direction: 'server-to-client',
        httpMethod: 'GET',
        httpStatus: 200,
        reason: 'r'.repeat(2000), // cut: truncatedFields
        upstreamLatencyMs: 0.5,
        upstreamCredential: { mode: 'perPrincipal', id: 'alice-prefect' },
        trace: { traceId: 'a'.repeat(32), spanId: 'b'.repeat(16) },
        arguments: { numbers: [Number('333333333.33333329'), 1e30, 4.5, 2e-3, 1e-27], z: { b: 1, a: 2 } },
      }),
      { id: 'id-1', instance: 'pod-a', now: new Date(0), payloads: full },
    );
    const { event: sealed, line } = createChain().seal(body);
    expect(JSON.parse(line)).toEqual(sealed);
    const { hash, ...rest } = JSON.parse(line);
    expect(Object.keys({ ...rest, hash }).sort()).toEqual(Object.keys(AuditEvent.properties).sort());
    expect(line).toBe(`${canonicalize(rest)?.slice(0, -1)},"hash":"${hash}"}`);
    expect(line).toContain('"numbers":[333333333.3333333,1e+30,4.5,0.002,1e-27]');
  });

  it('writes the canonical form too for data whose keys JavaScript reorders (digit-leading)', () => {
    const body = buildEvent(callInput({ arguments: { b: 1, '10': 2, a: { '9': 3, z: 4 } } }), {
      id: 'id-1',
      instance: 'pod-a',
      now: new Date(0),
      payloads: full,
    });
    const { event, line } = createChain().seal(body);
    const { hash, ...rest } = JSON.parse(line);
    expect(hash).toBe(event.hash);
    expect(line).toBe(`${canonicalize(rest)?.slice(0, -1)},"hash":"${hash}"}`);
    expect(eventHash(rest)).toBe(hash);
  });

  it('seals values already in canonical order as they are, and sorts a copy of the others', () => {
    const ordered = { a: 1, b: [{ c: 1, d: 2 }] };
    const unordered = { b: 1, a: { d: 2, c: 1 } };
    const body = buildEvent(callInput({ arguments: { x: 1 } }), {
      id: 'id-1',
      instance: 'pod-a',
      now: new Date(0),
      payloads: compilePayloadCapture({ capture: 'metadata' }),
    });
    const { event, line } = createChain().seal({ ...body, target: ordered, decision: unordered } as never);
    expect(event.target).toBe(ordered);
    expect(event.decision).not.toBe(unordered);
    expect(line).toContain('"decision":{"a":{"c":1,"d":2},"b":1}');
    expect(unordered).toEqual({ b: 1, a: { d: 2, c: 1 } });
    // What build-event and the pipeline make is already in order: nothing of it is copied.
    expect(event.principal).toBe(body.principal);
    expect(event.payload).toBe(body.payload);
  });
});
