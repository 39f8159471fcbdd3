import { hash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { boundEvent, capString, truncateUtf8 } from '../../../../sidecar/src/audit/bounds.ts';
import { buildEvent } from '../../../../sidecar/src/audit/build-event.ts';
import { compilePayloadCapture } from '../../../../sidecar/src/audit/payload.ts';
import { callInput } from './builders.ts';

const sha = (s: string) => hash('sha256', s);
const ctx = (capture: 'metadata' | 'full' = 'full') => ({
  id: 'e1',
  instance: 'pod-a',
  now: new Date(0),
  payloads: compilePayloadCapture({ capture }),
});

describe('audit event bounds', () => {
  it('cuts a 4 MB tool name to maxFieldBytes and lists its length and SHA-256', () => {
    const name = 'x'.repeat(4_000_000);
    const event = buildEvent(callInput({ target: { tool: name } }), { ...ctx(), maxFieldBytes: 1024 });
    expect(event.target?.tool).toBe('x'.repeat(1024));
    expect(event.truncatedFields).toEqual([{ bytes: 4_000_000, field: '/target/tool', sha256: sha(name) }]);
    expect(JSON.stringify(event).length).toBeLessThan(4096);
  });

  it('caps every caller-supplied string: method, id, session, user agent, reasons', () => {
    const big = (c: string) => c.repeat(5000);
    const event = buildEvent(
      callInput({
        method: big('m'),
        jsonrpcId: big('i'),
        session: big('s'),
        source: { address: '10.0.0.1', userAgent: big('u') },
        decision: { effect: 'deny', reason: big('d') },
        reason: big('r'),
        result: { isError: true, errorMessage: big('e') },
      }),
      { ...ctx(), maxFieldBytes: 100 },
    );
    expect(event.truncatedFields?.map((t) => t.field).sort()).toEqual(
      [
        '/decision/reason',
        '/jsonrpcId',
        '/method',
        '/reason',
        '/result/errorMessage',
        '/session',
        '/source/userAgent',
      ].sort(),
    );
    expect([event.method, event.jsonrpcId, event.session, event.reason].map((v) => String(v).length)).toEqual(
      [100, 100, 100, 100],
    );
    expect(JSON.stringify(event).length).toBeLessThan(3000);
  });

  it('keeps the first elements of a list that is over the cap', () => {
    const keys = Object.fromEntries(Array.from({ length: 1000 }, (_, i) => [`key${i}`, i]));
    const event = buildEvent(callInput({ arguments: keys }), { ...ctx('metadata'), maxFieldBytes: 64 });
    // ["key0",…,"key8"] is 64 bytes of JSON.
    expect(event.payload?.keys).toEqual(Array.from({ length: 9 }, (_, i) => `key${i}`));
    const json = JSON.stringify(Object.keys(keys));
    expect(event.truncatedFields).toEqual([
      { bytes: Buffer.byteLength(json), field: '/payload/keys', sha256: sha(json) },
    ]);
  });

  it('leaves the captured arguments to payloads.maxBytes', () => {
    const event = buildEvent(callInput({ arguments: { text: 'a'.repeat(2000) } }), {
      ...ctx(),
      maxFieldBytes: 64,
    });
    expect(event.payload?.arguments).toEqual({ text: 'a'.repeat(2000) });
    expect(event.truncatedFields).toBeUndefined();
  });

  it('returns the same object when nothing is over, and never changes the input', () => {
    const body = { method: 'tools/call', target: { tool: 'y'.repeat(300) } };
    expect(boundEvent(body, 1024)).toBe(body);
    const cut = boundEvent(body, 100);
    expect(cut).not.toBe(body);
    expect(body.target.tool).toHaveLength(300);
  });

  it('cuts at a character boundary and escapes the JSON Pointer', () => {
    expect(capString('é'.repeat(100), '/target/tool', 5, [])).toBe('éé');
    expect(truncateUtf8('€€', 4)).toBe('€');
    const body: Record<string, unknown> = { target: { 'a/b': 'z'.repeat(100) } };
    expect(boundEvent(body, 64).truncatedFields).toEqual([
      expect.objectContaining({ field: '/target/a~1b' }),
    ]);
  });

  it('keeps no payload before authentication (no principal), whatever the capture level', () => {
    const unauthenticated = callInput({ principal: undefined, outcome: 'unauthenticated' });
    expect(buildEvent(unauthenticated, ctx('full')).payload).toBeUndefined();
    expect(buildEvent(callInput(), ctx('full')).payload?.arguments).toEqual({ query: 'bug' });
  });
});
