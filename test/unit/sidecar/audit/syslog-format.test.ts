import { describe, expect, it } from 'vitest';
import { buildEvent } from '../../../../sidecar/src/audit/build-event.ts';
import { createChain } from '../../../../sidecar/src/audit/chain.ts';
import type { AuditInput } from '../../../../sidecar/src/audit/event.ts';
import { compilePayloadCapture } from '../../../../sidecar/src/audit/payload.ts';
import {
  formatRfc5424,
  frameOctetCounting,
  headerField,
} from '../../../../sidecar/src/audit/sinks/syslog-format.ts';
import { callInput } from './builders.ts';

const header = { facility: 13, hostname: 'node-1', appName: 'portcullis', procId: '42' };
const event = (input: AuditInput) =>
  createChain().seal(
    buildEvent(input, {
      id: 'e1',
      instance: 'i',
      now: new Date('2026-01-02T03:04:05.678Z'),
      payloads: compilePayloadCapture({}),
    }),
  ).event;

describe('RFC 5424 formatting', () => {
  it.each([
    { name: 'allowed is informational', outcome: 'allowed', pri: 110, msgId: 'audit' },
    { name: 'denied is notice', outcome: 'denied', pri: 109, msgId: 'audit' },
    { name: 'failed is warning', outcome: 'failed', pri: 108, msgId: 'audit' },
    {
      name: 'authentication failure is warning with its own MSGID',
      outcome: 'unauthenticated',
      pri: 108,
      msgId: 'authn',
    },
  ] as const)('$name', ({ outcome, pri, msgId }) => {
    const e = event(callInput({ outcome }));
    const msg = formatRfc5424(e, '{"x":1}', header);
    expect(msg).toBe(`<${pri}>1 2026-01-02T03:04:05.678Z node-1 portcullis 42 ${msgId} - {"x":1}`);
  });

  it('frames by octet count, counting UTF-8 bytes', () => {
    expect(frameOctetCounting('<110>1 é')).toBe('9 <110>1 é');
  });

  it.each([
    { name: 'keeps printable ASCII', value: 'pod-1.ns', out: 'pod-1.ns' },
    { name: 'strips spaces and non-ASCII', value: 'my host é', out: 'myhost' },
    { name: 'empty becomes NILVALUE', value: ' ', out: '-' },
  ])('header field $name', ({ value, out }) => {
    expect(headerField(value, 48)).toBe(out);
  });
});
